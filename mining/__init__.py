"""Groundwork pattern mining: forum threads -> recurring patterns.

A pure library (numpy, scikit-learn, sentence-transformers): no web framework, no database.
Heavy modules (torch) load only when an embedder is first used.
"""

from mining.clustering import PatternClusterer, match
from mining.documents import Document, document_text, error_signatures
from mining.pipeline import PatternMiner

__all__ = ["Document", "PatternClusterer", "PatternMiner", "document_text", "error_signatures", "match"]
