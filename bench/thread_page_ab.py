"""The thread page from the working templates against a copy of older templates, side by side in one process.

Two apps on the same benchmark database (``bench/forum_data.py``): one renders with ``forum/templates``, the other
with the directory given (e.g. ``git archive <commit> forum/templates | tar -x -C /tmp/before``). Requests
alternate between them, so load from other processes falls on both alike. Before timing, the page's HTML of
both is compared for each role (CSRF tokens aside, as they differ per session): a rendering change that should
not change the page shows "identical".

    .venv/bin/python bench/thread_page_ab.py /tmp/before/forum/templates [-n 150] [--roles customer,employee]

A change to the view or the services as well as the templates needs the whole older code: ``--trees`` takes two
source trees (e.g. ``git archive <commit> | tar -x -C /tmp/before``, the same for the newer commit) and runs each
in a process of its own, importing ``forum`` from that tree (``BENCH_SOURCE_TREE``); the requests still
alternate one by one, now between the two processes, which read the same benchmark databases. With ``--trees``
any pages of ``bench/forum_pages.py`` on either database can be compared, with its read markers (``--unread``).

    .venv/bin/python bench/thread_page_ab.py --trees /tmp/before /tmp/after [-n 150] [--roles customer,employee]
    .venv/bin/python bench/thread_page_ab.py --trees /tmp/before /tmp/after --db sqlite,postgres \
        --pages home,space,thread --roles customer --unread
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_data import Scale, default_url, ensure  # noqa: E402
from forum_pages import PAGES, Cell, _app_for, clear_read_markers, give_read_markers  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="[^"]*"|id="csrf_token"[^>]*')


def _html(cell: Cell) -> str:
    return CSRF.sub("", cell.client.get(cell.url).get_data(as_text=True))


def serve(backends: list[str], roles: list[str], pages: list[str]) -> None:
    """``--serve``: one side of ``--trees``; answers the parent's commands, one JSON line each, on stdout."""
    out = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr  # anything else printed (migrations, warnings) must not mix with the answers
    import forum

    print(f"serving from {Path(forum.__file__).parent}", file=sys.stderr, flush=True)
    cells = {}
    for backend in backends:
        targets = ensure(backend, Scale(), False)["targets"]
        app, log = _app_for(backend)
        for role in roles:
            for page in pages:
                cells[f"{backend}/{role}/{page}"] = Cell(backend, app, log, role, targets["users"][role], page,
                                                         PAGES[page](targets))
    for line in sys.stdin:
        command, key = line.split()
        if command == "html":
            answer = _html(cells[key])
        elif command == "summary":
            answer = cells[key].summary()
        else:
            cells[key].get(record=command == "record")
            answer = None
        out.write(json.dumps(answer) + "\n")
        out.flush()


class TreeCell:
    """A (database, role, page) served by a ``--serve`` process running a source tree."""

    def __init__(self, process: subprocess.Popen, key: str) -> None:
        self.process, self.key = process, key

    def ask(self, command: str):
        self.process.stdin.write(f"{command} {self.key}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the side serving {self.key} stopped (see its output above)")
        return json.loads(line)

    def get(self, record: bool) -> None:
        self.ask("record" if record else "warm")

    def summary(self) -> dict:
        return self.ask("summary")


def _tree_process(tree: str, args: argparse.Namespace) -> subprocess.Popen:
    env = dict(os.environ, BENCH_SOURCE_TREE=str(Path(tree).resolve()),
               BENCH_SQLITE_PATH=default_url("sqlite").removeprefix("sqlite:///"))
    return subprocess.Popen([sys.executable, __file__, "--serve", "--db", args.db, "--roles", args.roles,
                             "--pages", args.pages], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?", help="a directory holding the older templates")
    parser.add_argument("--trees", nargs=2, metavar=("BEFORE", "AFTER"), help="two source trees, one process each")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--roles", default="customer,employee")
    parser.add_argument("--db", default="sqlite", help="with --trees: sqlite, postgres or both")
    parser.add_argument("--pages", default="thread", help="with --trees: pages of bench/forum_pages.py")
    parser.add_argument("--unread", action="store_true", help="read markers as bench/forum_pages.py --unread")
    args = parser.parse_args(argv)
    roles, backends, pages = (_names(value) for value in (args.roles, args.db, args.pages))
    if args.serve:
        return serve(backends, roles, pages)
    if not args.before and not args.trees:
        parser.error("give a templates directory or --trees BEFORE AFTER")
    if not args.trees:
        backends, pages = ["sqlite"], ["thread"]

    marked = []
    for backend in backends:
        targets = ensure(backend, Scale(), False)["targets"]
        if args.unread:
            app, _ = _app_for(backend)
            emails = [targets["users"][role] for role in roles]
            print(f"{backend}: {give_read_markers(app, emails, targets)} read markers")
            marked.append((app, emails))
    cells: dict[tuple[str, str], Cell | TreeCell] = {}
    keys = [f"{backend}/{role}/{page}" for backend in backends for role in roles for page in pages]
    if args.trees:
        for name, tree in zip(("before", "after"), args.trees, strict=True):
            process = _tree_process(tree, args)
            for key in keys:
                cells[(name, key)] = TreeCell(process, key)
    else:
        _in_process_cells(cells, args.before, roles, targets, keys)
    for cell in cells.values():
        cell.get(record=False)  # a first view moves a read marker (--unread): compare what later views show
    for key in keys:
        before, after = (cells[(name, key)].ask("html") if args.trees else _html(cells[(name, key)])
                         for name in ("before", "after"))
        same = "identical" if before == after else (
            "differs in whitespace only" if before.split() == after.split() else "DIFFERS")
        print(f"{key}: HTML {same} ({len(before):,} / {len(after):,} characters)")
    load_before = os.getloadavg()
    for _ in range(args.warmup):
        for cell in cells.values():
            cell.get(record=False)
    for _ in range(args.n):
        for cell in cells.values():
            cell.get(record=True)
    load_after = os.getloadavg()
    for app, emails in marked:
        clear_read_markers(app, emails)
    print(f"\nload average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
          f"{args.n} measured rounds after {args.warmup} warm-up")
    print("\n| database | role | page | side | CPU p50 | wall p50 | wall p95 | SQL statements |\n"
          "|---|---|---|---|---|---|---|---|")
    for key in keys:
        for name in ("before", "after"):
            s = cells[(name, key)].summary()
            low, high = min(s["queries"]), max(s["queries"])
            queries = str(low) if low == high else f"{low}–{high}"
            print(f"| {' | '.join(key.split('/'))} | {name} | {s['cpu_p50_ms']:.1f} ms | {s['p50_ms']:.1f} ms | "
                  f"{s['p95_ms']:.1f} ms | {queries} |")


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _in_process_cells(cells: dict, templates: str, roles: list[str], targets: dict, keys: list[str]) -> None:
    from jinja2 import FileSystemLoader

    for name in ("before", "after"):
        app, log = _app_for("sqlite")
        if name == "before":
            app.jinja_env.loader = FileSystemLoader(templates)
        for role, key in zip(roles, keys, strict=True):
            cells[(name, key)] = Cell("sqlite", app, log, role, targets["users"][role], "thread",
                                      f"/t/{targets['thread_id']}")


if __name__ == "__main__":
    main()
