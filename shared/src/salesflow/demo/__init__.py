"""A complete customer journey driven through the public HTTP APIs — used by ``salesflow demo``
and by the end-to-end tests."""
