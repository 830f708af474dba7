import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mining.evaluate import choose_seeds, clustering_scores, load_labelled
from tests.synthetic import make_support_questions

ROOT = Path(__file__).resolve().parents[2]


def test_perfect_and_permuted_scores():
    truth = ["a"] * 5 + ["b"] * 5
    assert clustering_scores(truth, [1] * 5 + [0] * 5) == {"acc": 100.0, "nmi": 100.0, "ari": 100.0}


def test_noise_counts_as_wrong():
    truth = ["a"] * 5 + ["b"] * 5
    scores = clustering_scores(truth, [0, 0, 0, -1, -1, 1, 1, 1, -1, -1])
    assert scores["acc"] == 60.0 and scores["nmi"] < 100 and scores["ari"] < 100
    assert clustering_scores(truth, [-1] * 10)["acc"] == 0.0


def test_seeds_cover_three_quarters_of_labels():
    labels = [i % 8 for i in range(400)]
    seeds = choose_seeds(labels, 0.1)
    assert len(seeds) == 6
    assert all(len(members) == 5 for members in seeds.values())
    assert all(labels[m] == int(key) for key, members in seeds.items() for m in members)
    assert choose_seeds(labels, 0.1) == seeds  # fixed random state


def test_load_rejects_bad_lines(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": 1}\n{"nope": 1}\n')
    with pytest.raises(ValueError, match=":2:"):
        load_labelled(bad)


def test_evaluate_command_on_a_small_file(tmp_path):
    texts, labels = make_support_questions(n_intents=6, per_intent=30, random_state=5)
    data = tmp_path / "small.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in zip(texts, labels, strict=True)))
    out = subprocess.run([sys.executable, "-m", "mining", "evaluate", "--data", str(data), "--embedder", "tfidf",
                          "--seed-fraction", "0.1", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(result) == {"acc", "nmi", "ari", "n_clusters", "noise_fraction", "seconds", "peak_rss_mb"}
    assert result["nmi"] > 50 and result["n_clusters"] >= 4 and 0 <= result["noise_fraction"] < 0.5
    assert "ACC" in out.stdout.splitlines()[0]


def test_evaluate_command_reports_a_missing_file(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mining", "evaluate", "--data", str(tmp_path / "none.jsonl"),
                          "--embedder", "tfidf"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "error" in out.stderr


def test_numeric_labels_as_strings_are_fine():
    assert clustering_scores(np.array([1, 1, 2, 2]), [0, 0, 1, 1])["acc"] == 100.0
