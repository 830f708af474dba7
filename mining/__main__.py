"""Command line: ``python -m mining evaluate --data FILE.jsonl [--k K] [--seed-fraction F] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m mining``."""
    parser = argparse.ArgumentParser(prog="python -m mining", description="Groundwork pattern mining")
    commands = parser.add_subparsers(dest="command", required=True)
    evaluate = commands.add_parser("evaluate", help="mine a labelled JSONL file and score it against its labels")
    evaluate.add_argument("--data", required=True, help='file with one {"text": ..., "label": ...} per line')
    evaluate.add_argument("--k", type=int, default=None, help="force the number of patterns (exactly k)")
    evaluate.add_argument("--baseline", choices=["kmeans"], default=None,
                          help="also run plain k-means on the same vectors (true number of labels, or --k) "
                               "and print each level's ratio to it")
    evaluate.add_argument("--random-state", type=int, default=0, help="seed of the miner and the baseline")
    evaluate.add_argument("--seed-fraction", type=float, default=None,
                          help="give this fraction of the items of 75%% of the labels as seeds")
    evaluate.add_argument("--embedder", choices=["minilm", "tfidf"], default="minilm",
                          help="minilm (default) or the torch-free TF-IDF fallback")
    evaluate.add_argument("--cache", default=None, help="folder of an on-disk embedding cache")
    evaluate.add_argument("--json", action="store_true", help="print the result as one JSON line at the end")
    return parser


def make_embedder(name: str, cache_dir: str | None):
    """The embedder named on the command line, optionally behind an on-disk cache."""
    from mining.embedders import (
        DETAIL_DIMENSIONS,
        DETAIL_LAYER,
        CachedEmbedder,
        DiskCache,
        SentenceTransformerEmbedder,
        TfidfEmbedder,
    )

    embedder = SentenceTransformerEmbedder() if name == "minilm" else TfidfEmbedder()
    if cache_dir and name == "minilm":
        folder = embedder.model_name.replace("/", "_").replace("@", "_")
        detail = DiskCache(f"{cache_dir}/{folder}/detail-layer{DETAIL_LAYER}-{DETAIL_DIMENSIONS}", dim=DETAIL_DIMENSIONS)
        return CachedEmbedder(embedder, DiskCache(f"{cache_dir}/{folder}"), detail_cache=detail)
    return embedder


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    from mining.evaluate import evaluate_file

    if args.k is not None and args.k < 1:
        print("error: --k must be at least 1", file=sys.stderr)
        return 2
    try:
        result = evaluate_file(args.data, k=args.k, seed_fraction=args.seed_fraction, baseline=args.baseline,
                               embedder=make_embedder(args.embedder, args.cache), random_state=args.random_state)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for level in ("patterns", "themes", "kmeans"):
        if level in result:
            print(format_level(level, result[level], result.get("ratio", {}).get(level)))
    print(f"{result['n_labels']} labels  {result['seconds']:.1f} s  peak {result['peak_rss_mb']:.0f} MiB")
    if args.json:
        print(json.dumps(result))
    return 0


def format_level(name: str, scores: dict, ratio: dict | None = None) -> str:
    """One line of the text report: a level's scores, and its ratio to the baseline when there is one."""
    line = (f"{name:<9} ACC {scores['acc']:.1f}  NMI {scores['nmi']:.1f}  ARI {scores['ari']:.1f}  "
            f"groups {scores['n_clusters']}  noise {100 * scores['noise_fraction']:.1f}%  "
            f"purity {scores['purity']:.2f}")
    if ratio:
        line += "  vs k-means " + " ".join(f"{m.upper()} {v:.2f}x" for m, v in ratio.items() if v is not None)
    return line


if __name__ == "__main__":
    sys.exit(main())
