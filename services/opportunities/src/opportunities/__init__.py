"""Salesflow opportunities service."""
