"""Organisations and people: accounts, organisations with their engagements and deployments, the catalog."""
