"""Salesflow orders service."""
