"""Salesflow aftersales service."""
