"""Worst-case Markdown: render 50 KB of pathological input through forum.markdown and print the time of each.

    .venv/bin/python bench/markdown_worst.py [--size 50000] [--repeat 3]

Target (issue 11): every case <= 200 ms at 50 KB. The best of ``--repeat`` runs is printed per case.
"""
from __future__ import annotations

import argparse
import time

from forum.markdown import render_markdown

CASES = {
    "image openers  ![![![": lambda n: "![" * (n // 2),
    "link openers   [[[[": lambda n: "[" * n,
    "openers + ]    [[[[]": lambda n: "[" * (n - 1) + "]",
    "nested runs    [x99]": lambda n: ("[" * 99 + "]") * (n // 100),
    "unclosed links [a](": lambda n: "[a](" * (n // 4),
    "closers        ](": lambda n: "](" * (n // 2),
    "emphasis       *a": lambda n: "*a" * (n // 2),
    "underscores    a_": lambda n: "a_" * (n // 2),
    "backticks      `": lambda n: "`" * n,
    "angle          <": lambda n: "<" * n,
    "quotes         > ": lambda n: "> " * (n // 2),
    "list           - ": lambda n: "- " * (n // 2),
    "ordinary prose": lambda n: ("Some *ordinary* text with a [link](https://example.com) and `code`.\n\n"
                                 * (n // 60 + 1))[:n],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    worst = 0.0
    print(f"{'case':24} {'ms':>8}   ({args.size:,} characters, best of {args.repeat})")
    for name, make in CASES.items():
        text = make(args.size)
        best = min(_timed(text) for _ in range(args.repeat))
        worst = max(worst, best)
        print(f"{name:24} {best * 1000:8.1f}")
    print(f"{'worst':24} {worst * 1000:8.1f}   target <= 200 ms")


def _timed(text: str) -> float:
    started = time.perf_counter()
    render_markdown(text)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
