"""Moderation: flags and moderator actions, the audit log, new-member limits."""
