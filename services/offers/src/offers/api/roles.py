"""Who may do what (admin always passes)."""

READERS = ("sales_rep", "sales_manager", "analyst")
CATALOG_WRITERS = ("sales_manager",)
OFFER_ACTORS = ("sales_rep", "sales_manager")
APPROVERS = ("sales_manager",)
