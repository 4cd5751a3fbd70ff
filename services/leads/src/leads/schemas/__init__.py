"""Request and response models of the leads API (never the table models)."""
