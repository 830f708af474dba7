"""Mail: one outbox table for every message the forum sends, delivered over SMTP off the request path."""
