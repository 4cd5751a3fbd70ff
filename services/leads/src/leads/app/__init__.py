"""Use cases of the leads service: one unit of work each, SQL here, rules in ``leads.domain``."""
