"""Mined patterns: their page figures, detail, stored snapshots, curation, mining runs and playbooks."""
