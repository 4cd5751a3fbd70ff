"""HTTP conventions shared by every service (DESIGN.md §4)."""

from salesflow.api.errors import Problem, conflict, not_found

__all__ = ["Problem", "conflict", "not_found"]
