"""Salesflow controlling service."""
