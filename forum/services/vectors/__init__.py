"""Thread vectors: stored embeddings, the in-memory index, and similar-thread lookups."""
