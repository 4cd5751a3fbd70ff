"""Salesflow offers service."""
