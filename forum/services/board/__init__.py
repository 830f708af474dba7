"""The board: threads and replies, the pages that list them, search, the ask page's suggestions, escalations."""
