"""Pytest fixtures for Salesflow: a real broker per session, a real database per test, service
apps run with their lifespan, dev tokens. Registered as the ``salesflow`` pytest plugin."""
