"""Server time of the home, space and 50-reply thread pages at 100k threads / 1M replies (or --threads/--replies).

Both databases are measured in one run, side by side: every round requests every (database, role, page)
cell once, so load from other processes on the machine falls on all cells alike. "Server time" is the
wall time around ``client.get`` of Flask's test client, in process: routing, session and user loading,
queries, template rendering and the response body — no network, no WSGI server.

    .venv/bin/python bench/forum_pages.py [--db sqlite,postgres] [-n 200] [--roles customer,employee]
                                          [--pages home,space,thread] [--rebuild] [--explain] [--profile]
                                          [--unread]

``--roles anonymous`` measures a reader who is not signed in, with ``PUBLIC_READ`` on (as
``bench/flaskbb_compare.py`` serves the anonymous pages).

``--unread`` gives each measured user a read marker, half-way through its replies, on every thread of the
home and space pages and on the measured thread (the rest of the forum unread), so every list counts "N new"
and the thread page finds its first unread reply; the thread page's first view moves the marker (one write),
later views find it read to its last reply, as a member reloading a thread would.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_data import OUT, Scale, bench_config, default_url, ensure  # noqa: E402

PAGES = {
    "home": lambda targets: "/",
    "space": lambda targets: f"/s/{targets['space_slug']}",
    "thread": lambda targets: f"/t/{targets['thread_id']}",
    # Other views of the same lists, measured on request (--pages): filters and a deep page.
    "unanswered": lambda targets: "/?show=unanswered",
    "home_page_200": lambda targets: "/?page=200",
    "space_tag": lambda targets: f"/s/{targets['space_slug']}?tag=kafka",
    "space_open": lambda targets: f"/s/{targets['space_slug']}?status=open",
    "space_page_100": lambda targets: f"/s/{targets['space_slug']}?page=100",
    "home_page_4000": lambda targets: "/?page=4000",
    "space_page_1000": lambda targets: f"/s/{targets['space_slug']}?page=1000",
}
ANONYMOUS = "anonymous"  # --roles: a reader who is not signed in (PUBLIC_READ on)
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


class QueryLog:
    """Counts (and optionally keeps) the SQL statements an engine runs, with their durations."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.count, self.keep, self.statements, self._started = 0, False, [], 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.count += 1
        self._started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if self.keep:
            self.statements.append((time.perf_counter() - self._started, statement, parameters))


class Cell:
    """One (database, role, page): a signed-in test client, its URL and the times measured."""

    def __init__(self, backend: str, app, log: QueryLog, role: str, email: str, page: str, url: str) -> None:
        self.backend, self.app, self.log, self.role, self.page, self.url = backend, app, log, role, page, url
        self.client = app.test_client() if email is None else _signed_in_client(app, email)
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.statements: dict[str, list[float]] = {}
        self.queries: set[int] = set()
        self.size = 0

    def get(self, record: bool) -> None:
        before, kept = self.log.count, len(self.log.statements)
        started, cpu_started = time.perf_counter(), time.process_time()
        response = self.client.get(self.url)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if response.status_code != 200:
            raise SystemExit(f"{self.backend} {self.role} {self.url}: HTTP {response.status_code}\n"
                             f"{response.get_data(as_text=True)[:2000]}")
        if record:
            self.times.append(elapsed * 1000)
            self.cpu.append(cpu * 1000)
            self.queries.add(self.log.count - before)
            self.size = len(response.get_data())
            for position, (seconds, statement, _) in enumerate(self.log.statements[kept:]):
                self.statements.setdefault(f"{position + 1:>2}. {statement}", []).append(seconds * 1000)
        self.last_statements = self.log.statements[kept:]
        del self.log.statements[kept:]

    def summary(self) -> dict:
        cuts = statistics.quantiles(self.times, n=100, method="inclusive")
        return {"backend": self.backend, "role": self.role, "page": self.page, "url": self.url,
                "n": len(self.times), "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1),
                "max_ms": round(max(self.times), 1), "cpu_p50_ms": round(statistics.median(self.cpu), 1),
                "cpu_p95_ms": round(statistics.quantiles(self.cpu, n=100, method="inclusive")[94], 1), "queries": sorted(self.queries), "bytes": self.size}


def _signed_in_client(app, email: str):
    """A test client whose session holds the user as a finished sign-in leaves it: Flask-Login's keys and the
    second-factor mark ``signin.start_session`` writes ("passed" for staff, who must pass one, else "none")."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import User
    from forum.views.signin import FACTOR, factor_due

    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        session_id = user.get_id()
        # Without the mark, the sign-in guard sends vendor staff to /login/two-factor: the bench measures the
        # pages a member sees once signed in, so it starts the session the challenge would have started.
        factor = "passed" if factor_due(user) else "none"
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session[FACTOR] = factor
    return client


def give_read_markers(app, emails: list[str], url_targets: dict) -> int:
    """``--unread``: markers half-way through the replies of the threads the measured pages list; how many."""
    from sqlalchemy import delete, select

    from forum.extensions import db
    from forum.models import Reply, ThreadRead, User, utcnow
    from forum.services.board import pages

    made = 0
    with app.app_context():
        for email in emails:
            user = db.session.execute(select(User).where(User.email == email)).scalar_one()
            db.session.execute(delete(ThreadRead).where(ThreadRead.user_id == user.id))
            listed = pages.list_threads(user, 1, app.config["PAGE_SIZE"]).items
            space = pages.space_by_slug(user, url_targets["space_slug"])
            if space is not None:
                listed += pages.list_threads(user, 1, app.config["PAGE_SIZE"], space_id=space.id).items
            ids = {t.id for t in listed} | {url_targets["thread_id"]}
            for thread_id in ids:
                reply_ids = list(db.session.execute(select(Reply.id).where(Reply.thread_id == thread_id)
                                                    .order_by(Reply.id)).scalars())
                db.session.add(ThreadRead(user_id=user.id, thread_id=thread_id, read_at=utcnow(),
                                          last_read_reply_id=reply_ids[len(reply_ids) // 2] if reply_ids else 0))
                made += 1
        db.session.commit()
    return made


def targets_users(marker: dict, roles: list[str]) -> list[str]:
    return [marker["targets"]["users"][role] for role in roles if role != ANONYMOUS]


def clear_read_markers(app, emails: list[str]) -> None:
    from sqlalchemy import delete, select

    from forum.extensions import db
    from forum.models import ThreadRead, User

    with app.app_context():
        ids = select(User.id).where(User.email.in_(emails)).scalar_subquery()
        db.session.execute(delete(ThreadRead).where(ThreadRead.user_id.in_(ids)))
        db.session.commit()


def _app_for(backend_or_url: str, public_read: bool = False):
    """The app on a backend's default database, or on a database URL (a data set of another size); with
    ``public_read``, anonymous readers see the public threads."""
    from forum import create_app
    from forum.extensions import db

    url = backend_or_url if "://" in backend_or_url else default_url(backend_or_url)
    app = create_app({**bench_config(url), "PUBLIC_READ": public_read})
    with app.app_context():
        log = QueryLog(db.engine)
    return app, log


def explain(cells: list[Cell], top: int) -> None:
    """For one request of each cell: the slowest statements with their plans."""
    for cell in cells:
        cell.log.keep = True
        cell.get(record=False)
        cell.log.keep = False
        statements = sorted(cell.last_statements, key=lambda s: -s[0])
        total = sum(s[0] for s in statements) * 1000
        print(f"\n### {LABELS[cell.backend]} · {cell.role} · {cell.page}: {len(statements)} statements, "
              f"{total:.1f} ms in the database")
        with cell.app.app_context():
            from forum.extensions import db

            with db.engine.connect() as conn:
                for seconds, statement, parameters in statements[:top]:
                    print(f"\n-- {seconds * 1000:.2f} ms\n{statement}\n-- params: {parameters!r}")
                    prefix = "EXPLAIN QUERY PLAN " if cell.backend == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
                    for row in conn.exec_driver_sql(prefix + statement, parameters):
                        print("   ", " | ".join(str(v) for v in row))


def slowest_statements(cells: list[Cell], top: int) -> None:
    """Median database time of each statement of each page over the measured requests."""
    for cell in cells:
        ranked = sorted(((statistics.median(times), text) for text, times in cell.statements.items()), reverse=True)
        total = sum(median for median, _ in ranked)
        print(f"\n### {LABELS[cell.backend]} · {cell.role} · {cell.page}: {len(ranked)} statements, "
              f"sum of medians {total:.2f} ms")
        for median, text in ranked[:top]:
            print(f"  {median:6.2f} ms  {' '.join(text.split())[:220]}")


def profile(cell: Cell, rounds: int) -> None:
    import cProfile
    import pstats

    if os.environ.get("BENCH_PROFILER") == "pyinstrument":  # a call tree; pyinstrument is not a requirement
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        with profiler:
            for _ in range(rounds):
                cell.get(record=False)
        print(profiler.output_text(unicode=True, show_all=os.environ.get("BENCH_PROFILE_ALL") == "1", short_mode=False))
        return
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        cell.get(record=False)
    profiler.disable()
    print(f"\n### profile: {LABELS[cell.backend]} · {cell.role} · {cell.page} ({rounds} requests)")
    pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(int(os.environ.get("BENCH_PROFILE_ROWS", "30")))


def _span(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{min(values)}–{max(values)}"


def table(summaries: list[dict], backends: list[str]) -> str:
    """The Markdown table for bench/README.md."""
    head = "| page | role | " + " | ".join(f"{LABELS[b]} p50 | {LABELS[b]} p95" for b in backends)
    names = " / ".join(LABELS[b] for b in backends)
    head += f" | CPU p50 ({names}) | SQL queries ({names}) |"
    lines = [head, "|" + "---|" * (4 + 2 * len(backends))]
    keyed = {(s["backend"], s["role"], s["page"]): s for s in summaries}
    for page in dict.fromkeys(s["page"] for s in summaries):
        for role in dict.fromkeys(s["role"] for s in summaries):
            row = [keyed.get((b, role, page)) for b in backends]
            if not all(row):
                continue
            times = " | ".join(f"{s['p50_ms']:.1f} ms | {s['p95_ms']:.1f} ms" for s in row)
            queries = " / ".join(_span(s["queries"]) for s in row)
            cpu = " / ".join(f"{s['cpu_p50_ms']:.1f} ms" for s in row)
            lines.append(f"| {page} | {role} | {times} | {cpu} | {queries} |")
    return "\n".join(lines)


def print_prepared(apps) -> None:
    """What the connection of a run holds prepared. The test client serves one request at a time, so the pool
    only ever opened one connection, and the statements the run prepared are on it."""
    from sqlalchemy import text

    from forum.extensions import db

    for app in apps:
        with app.app_context():
            rows = db.session.execute(text(
                "SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\\s+', ' ', 'g'), 90) "
                "FROM pg_prepared_statements ORDER BY custom_plans DESC, generic_plans DESC")).all()
            db.session.rollback()
        print(f"\n### prepared statements on PostgreSQL's connection: {len(rows)}, "
              f"{sum(1 for g, c, _ in rows if g == 0)} of them planned anew on every run (custom plans only)")
        for generic, custom, statement in rows:
            print(f"  generic {generic:5d}  custom {custom:5d}  {statement}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("-n", type=int, default=200, help="measured requests per page, role and database")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--roles", default="customer,employee")
    parser.add_argument("--pages", default="home,space,thread")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the benchmark databases first")
    parser.add_argument("--threads", type=int, default=Scale.threads, help="data set size (with --replies)")
    parser.add_argument("--replies", type=int, default=Scale.replies)
    parser.add_argument("--explain", action="store_true", help="print the slowest statements and their plans")
    parser.add_argument("--top", type=int, default=4, help="statements per page shown by --explain")
    parser.add_argument("--profile", action="store_true", help="cProfile the first cell")
    parser.add_argument("--unread", action="store_true",
                        help="measured users have read markers half-way through the listed threads")
    parser.add_argument("--statements", action="store_true",
                        help="also time every SQL statement and print the slowest per page")
    parser.add_argument("--prepared", action="store_true",
                        help="PostgreSQL: after the run, the statements its connection holds prepared, with their "
                             "generic and custom plan counts")
    args = parser.parse_args(argv)

    backends = [b.strip() for b in args.db.split(",") if b.strip()]
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    cells: list[Cell] = []
    markers = {}
    for backend in backends:
        markers[backend] = marker = ensure(backend, Scale(threads=args.threads, replies=args.replies), args.rebuild)
        app, log = _app_for(marker["url"], public_read=ANONYMOUS in roles)
        targets = marker["targets"]
        if args.unread:
            made = give_read_markers(app, [targets["users"][role] for role in roles if role != ANONYMOUS], targets)
            print(f"{backend}: {made} read markers for {len(roles)} users")
        for role in roles:
            for page in pages:
                email = None if role == ANONYMOUS else targets["users"][role]
                cells.append(Cell(backend, app, log, role, email, page, PAGES[page](targets)))

    if args.explain:
        for _ in range(args.warmup):
            for cell in cells:
                cell.get(record=False)
        explain(cells, args.top)
        return
    if args.profile:
        for _ in range(args.warmup):
            cells[0].get(record=False)
        profile(cells[0], args.n)
        return

    for log in {id(cell.log): cell.log for cell in cells}.values():
        log.keep = args.statements
    load_before = os.getloadavg()
    started = time.perf_counter()
    for _ in range(args.warmup):
        for cell in cells:
            cell.get(record=False)
    for _ in range(args.n):
        for cell in cells:
            cell.get(record=True)
    load_after = os.getloadavg()
    if args.prepared:
        print_prepared({cell.backend: cell.app for cell in cells if cell.backend == "postgres"}.values())
    if args.unread:  # the shared data set goes back to no markers, as other measurements expect
        for cell in cells:
            clear_read_markers(cell.app, targets_users(markers[cell.backend], roles))
    summaries = [cell.summary() for cell in cells]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(), "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in load_after], "seconds": round(time.perf_counter() - started, 1),
        "n": args.n, "warmup": args.warmup, "unread": args.unread, "counts": {b: m["counts"] for b, m in markers.items()},
        "results": summaries,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "forum_pages.json").write_text(json.dumps(result, indent=2))
    print(f"\n{result['when']}, {result['cpus']} CPUs, load average {load_before[0]:.2f} before / "
          f"{load_after[0]:.2f} after, {args.n} requests per cell after {args.warmup} warm-up, "
          f"{result['seconds']} s\n")
    print(table(summaries, backends))
    if args.statements:
        slowest_statements(cells, args.top)
    for s in summaries:
        print(f"  {s['backend']:<8} {s['role']:<9} {s['page']:<6} {s['url']:<24} max {s['max_ms']:6.1f} ms  "
              f"CPU of this process p50 {s['cpu_p50_ms']:5.1f} ms p95 {s['cpu_p95_ms']:5.1f} ms  "
              f"{s['bytes']:>7,} bytes")


if __name__ == "__main__":
    main()
