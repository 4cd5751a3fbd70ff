"""The roles a token may carry (DESIGN.md §4); a module of its own so that the CLI can name them
without importing the HTTP stack."""

ROLES = (
    "admin",
    "marketing",
    "sales_rep",
    "sales_manager",
    "order_desk",
    "logistics_system",
    "service_agent",
    "analyst",
    "integration",
)
