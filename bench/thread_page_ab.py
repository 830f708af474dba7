"""The thread page from the working templates against a copy of older templates, side by side in one process.

Two apps on the same benchmark database (``bench/forum_data.py``): one renders with ``forum/templates``, the other
with the directory given (e.g. ``git archive <commit> forum/templates | tar -x -C /tmp/before``). Requests
alternate between them, so load from other processes falls on both alike. Before timing, the page's HTML of
both is compared for each role (CSRF tokens aside, as they differ per session): a rendering change that should
not change the page shows "identical".

    .venv/bin/python bench/thread_page_ab.py /tmp/before/forum/templates [-n 150] [--roles customer,employee]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_data import Scale, ensure  # noqa: E402
from forum_pages import Cell, _app_for  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="[^"]*"|id="csrf_token"[^>]*')


def _html(cell: Cell) -> str:
    return CSRF.sub("", cell.client.get(cell.url).get_data(as_text=True))


def main(argv: list[str] | None = None) -> None:
    from jinja2 import FileSystemLoader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="a directory holding the older templates")
    parser.add_argument("-n", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--roles", default="customer,employee")
    args = parser.parse_args(argv)

    targets = ensure("sqlite", Scale(), False)["targets"]
    url = f"/t/{targets['thread_id']}"
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    cells: dict[tuple[str, str], Cell] = {}
    for name in ("before", "after"):
        app, log = _app_for("sqlite")
        if name == "before":
            app.jinja_env.loader = FileSystemLoader(args.before)
        for role in roles:
            cells[(name, role)] = Cell("sqlite", app, log, role, targets["users"][role], "thread", url)
    for role in roles:
        before, after = (_html(cells[(name, role)]) for name in ("before", "after"))
        same = "identical" if before == after else (
            "differs in whitespace only" if before.split() == after.split() else "DIFFERS")
        print(f"{role}: HTML {same} ({len(before):,} / {len(after):,} characters)")
    for _ in range(args.warmup):
        for cell in cells.values():
            cell.get(record=False)
    for _ in range(args.n):
        for cell in cells.values():
            cell.get(record=True)
    print("\n| role | templates | CPU p50 | wall p50 | wall p95 | SQL statements |\n|---|---|---|---|---|---|")
    for role in roles:
        for name in ("before", "after"):
            s = cells[(name, role)].summary()
            low, high = min(s["queries"]), max(s["queries"])
            queries = str(low) if low == high else f"{low}–{high}"
            print(f"| {role} | {name} | {s['cpu_p50_ms']:.1f} ms | {s['p50_ms']:.1f} ms | {s['p95_ms']:.1f} ms | "
                  f"{queries} |")


if __name__ == "__main__":
    main()
