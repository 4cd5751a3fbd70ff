"""Who may call what (admin always passes)."""

READERS = ("marketing", "sales_rep", "sales_manager", "analyst")
UNIVERSE_WRITERS = ("marketing", "sales_manager")
CONTACT_WRITERS = ("marketing", "sales_rep", "sales_manager")
TOUCHPOINT_WRITERS = ("marketing",)
SCORING_WRITERS = ("marketing", "sales_manager")
ROUTING_WRITERS = ("sales_manager",)
INTEREST_WRITERS = ("marketing",)
SALES = ("sales_rep", "sales_manager")
DISQUALIFIERS = ("sales_rep", "sales_manager", "marketing")
MANAGERS = ("sales_manager",)
SEE_ALL_LEADS = ("marketing", "analyst")
