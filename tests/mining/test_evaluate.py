import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mining.evaluate import choose_seeds, clustering_scores, load_labelled, purity
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
                          "--seed-fraction", "0.1", "--baseline", "kmeans", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"patterns", "themes", "kmeans", "ratio", "n_labels", "seconds", "peak_rss_mb"} <= set(result)
    for level in ("patterns", "themes", "kmeans"):
        assert set(result[level]) >= {"acc", "nmi", "ari", "n_clusters", "noise_fraction", "purity"}
    assert result["patterns"]["nmi"] > 50 and result["patterns"]["n_clusters"] >= 4
    assert 0 <= result["patterns"]["noise_fraction"] < 0.5 and 0 < result["patterns"]["purity"] <= 1
    assert result["themes"]["n_clusters"] <= result["patterns"]["n_clusters"]
    assert result["kmeans"]["n_clusters"] == result["n_labels"] == 6
    ratio = result["ratio"]["patterns"]["acc"]
    assert ratio == round(result["patterns"]["acc"] / result["kmeans"]["acc"], 3)
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["patterns", "themes", "kmeans"]
    assert "vs k-means" in lines[0]


def test_evaluate_command_rejects_a_bad_k(tmp_path):
    data = tmp_path / "small.jsonl"
    data.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 2}\n')
    out = subprocess.run([sys.executable, "-m", "mining", "evaluate", "--data", str(data), "--embedder", "tfidf",
                          "--k", "0"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.startswith("error:") and len(out.stderr.splitlines()) == 1


def test_purity_counts_noise_as_impure():
    truth = ["a"] * 4 + ["b"] * 4
    assert purity(truth, [0, 0, 0, 1, 1, 1, 1, -1]) == 0.75


def test_evaluate_command_reports_a_missing_file(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mining", "evaluate", "--data", str(tmp_path / "none.jsonl"),
                          "--embedder", "tfidf"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "error" in out.stderr


def test_numeric_labels_as_strings_are_fine():
    assert clustering_scores(np.array([1, 1, 2, 2]), [0, 0, 1, 1])["acc"] == 100.0
