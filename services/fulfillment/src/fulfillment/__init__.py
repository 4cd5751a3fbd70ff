"""Salesflow fulfillment service."""
