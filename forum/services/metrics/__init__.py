"""Measured results for employees and their CSV export."""
