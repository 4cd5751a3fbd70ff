"""Salesflow leads service."""
