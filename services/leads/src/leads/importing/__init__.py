"""Bulk import of the company universe from CSV (``POST /companies/import``)."""
