"""Worst-case Markdown: render 50 KB of pathological input through forum.markdown and print the time of each.

    .venv/bin/python bench/markdown_worst.py [--size 50000] [--repeat 3] [--compare]

Target (issue 11): every case <= 200 ms at 50 KB. The best of ``--repeat`` runs is printed per case. With
``--compare``, each case is also rendered, in the same run, the way it was before the emphasis budget, the
faster link destinations and the smaller link scan budget (markdown-it with only the bounded link labels, at
most 200,000 steps, then nh3), and the ratio is printed:
timings on a shared machine move by 25-30% between runs, ratios much less.
"""
from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import nh3
from markdown_it import MarkdownIt, helpers

from forum import markdown
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
    parser.add_argument("--compare", action="store_true", help="also time the renderer before the budgets")
    args = parser.parse_args()
    worst = 0.0
    head = f"{'case':24} {'ms':>8}" + (f" {'before':>8} {'ratio':>6}" if args.compare else "")
    print(head + f"   ({args.size:,} characters, best of {args.repeat})")
    for name, make in CASES.items():
        text = make(args.size)
        best, before = float("inf"), float("inf")
        for _ in range(args.repeat):  # interleaved, so both see the same load
            best = min(best, _timed(render_markdown, text))
            if args.compare:
                before = min(before, _timed(_render_before, text))
        worst = max(worst, best)
        line = f"{name:24} {best * 1000:8.1f}"
        if args.compare:
            line += f" {before * 1000:8.1f} {best / before:6.2f}"
        print(line)
    print(f"{'worst':24} {worst * 1000:8.1f}   target <= 200 ms")


_before = MarkdownIt("js-default", {"linkify": False, "typographer": False}).enable("table").enable("strikethrough")
_before.helpers = SimpleNamespace(**{**{name: getattr(helpers, name) for name in helpers.__all__},
                                     "parseLinkLabel": markdown._bounded_link_label})


def _render_before(text: str) -> str:
    return nh3.clean(_before.render(text, {"_link_scan_budget": [200_000]}), tags=markdown.ALLOWED_TAGS, attributes=markdown.ALLOWED_ATTRIBUTES,
                     url_schemes=markdown.URL_SCHEMES, link_rel="nofollow noopener",
                     filter_style_properties={"text-align"}, strip_comments=True)


def _timed(render, text: str) -> float:
    started = time.perf_counter()
    render(text)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
