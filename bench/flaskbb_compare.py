"""Side by side with FlaskBB: req/s of the matching pages under 8 clients, same client, alternating rounds.

FlaskBB 2.2.0 comes from the peer recipe next to this repository (``../shared/peer-flaskbb``, or
PEER_FLASKBB_DIR): its scripts install FlaskBB into a throwaway venv under PEER_FLASKBB_CACHE and fill it
with 10k topics / 100k posts. Our forum serves bench/forum_data.py's default data set (100k threads / 1M
replies, ten times as many posts). Both run under gunicorn with 2 sync workers on 127.0.0.1, and both are
timed by the recipe's own client (``measure.py``, imported from where it lives): a new connection per
request, 8 client threads. Rounds alternate FlaskBB / ours, so load from other processes falls on both.

    .venv/bin/python bench/flaskbb_compare.py                       # SQLite and PostgreSQL, 2 rounds each
    .venv/bin/python bench/flaskbb_compare.py --db sqlite --rounds 3 --per-client 25

Pages: home, space page 1, the space's last page, a thread with 50 replies, a thread with 10 replies;
anonymous (our PUBLIC_READ=true) and signed in (FlaskBB's member; our bench customer). Our list page size is
set to FlaskBB's 10 topics; 50 replies per page is already the same on both.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = Path(os.environ.get("PEER_FLASKBB_DIR", ROOT.parent / "shared" / "peer-flaskbb"))
PEER_CACHE = Path(os.environ.get("PEER_FLASKBB_CACHE",
                                 Path(os.environ.get("TMPDIR", "/tmp")) / "peer-flaskbb-cache"))
OUT = ROOT / "bench" / "out"
PAGES = ("index", "forum_p1", "forum_deep", "topic_50posts", "topic_10posts")
LABELS = {"index": "home / index", "forum_p1": "space / topic list p1", "forum_deep": "space / topic list last page",
          "topic_50posts": "thread, 50 replies", "topic_10posts": "thread, 10 replies"}
PEER_BACKEND = {"sqlite": "sqlite", "postgres": "pg"}
OUR_PAGE_SIZE = 10  # FlaskBB's topics_per_page


def load_measure() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peer_measure", PEER_DIR / "measure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- FlaskBB (through the recipe) ----------------------------------------------------------------------

def ensure_flaskbb(backends: list[str]) -> None:
    """Install and populate FlaskBB with the recipe's own scripts where the cache lacks it."""
    env = dict(os.environ, PEER_FLASKBB_CACHE=str(PEER_CACHE))
    missing = [PEER_BACKEND[b] for b in backends if not (PEER_CACHE / PEER_BACKEND[b] / "manifest.json").exists()]
    if not missing:
        return
    print(f"FlaskBB: setting up {missing} with {PEER_DIR / 'setup.sh'}", flush=True)
    subprocess.run([str(PEER_DIR / "setup.sh"), *missing], env=env, check=True)
    for b in missing:
        cfg = PEER_CACHE / b / "flaskbb.cfg"
        with open(PEER_CACHE / "logs" / f"populate-{b}.log", "w") as log:
            subprocess.run([str(PEER_CACHE / "venv" / "bin" / "python"), str(PEER_DIR / "populate.py"), "--config",
                            str(cfg), "--manifest", str(PEER_CACHE / b / "manifest.json")],
                           env=env, check=True, stdout=log)


def start_flaskbb(backend: str, port: int, workers: int) -> subprocess.Popen:
    cfg = PEER_CACHE / PEER_BACKEND[backend] / "flaskbb.cfg"
    # As the recipe's run.sh starts it: no control socket (gunicorn 27 would write one under ~/.gunicorn). Not from
    # this repository's root, where gunicorn would read our gunicorn.conf.py.
    return subprocess.Popen(
        [str(PEER_CACHE / "venv" / "bin" / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--no-control-socket", "--pythonpath", str(PEER_DIR),
         "--error-logfile", str(PEER_CACHE / "logs" / f"gunicorn-compare-{backend}.log"),
         f'flaskbb:create_app(config="{cfg}")'],
        cwd=PEER_CACHE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def flaskbb_pages(measure: ModuleType, manifest: dict) -> dict[str, str]:
    return dict(measure.pages_from_manifest(manifest))


# --- our forum ------------------------------------------------------------------------------------------

def ensure_ours(backend: str) -> dict:
    """The marker of the default-size data set, built (niced: the machine is shared) when absent."""
    sys.path.insert(0, str(ROOT / "bench"))
    import forum_data

    url = forum_data.default_url(backend)
    path = forum_data.marker_path(backend, url)
    if not path.exists():
        print(f"ours: building the default data set on {backend} (bench/forum_data.py, nice 10)", flush=True)
        subprocess.run(["nice", "-n", "10", sys.executable, str(ROOT / "bench" / "forum_data.py"), "--db", backend],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(path.read_text())


def our_pages(marker: dict) -> dict[str, str]:
    """Our URLs for FlaskBB's five pages; the 10-reply thread and the last space page are looked up."""
    from sqlalchemy import create_engine, text

    targets = marker["targets"]
    slug = targets["space_slug"]
    engine = create_engine(marker["url"])
    with engine.connect() as conn:
        space_id = conn.execute(text("SELECT id FROM space WHERE slug = :s"), {"s": slug}).scalar_one()
        listed = conn.execute(text(
            "SELECT count(*) FROM thread WHERE space_id = :s AND visibility = 'public' "
            "AND hidden_at IS NULL AND merged_into_id IS NULL"), {"s": space_id}).scalar_one()
        # A public thread of the same space with exactly 10 replies, none a staff note or removed: the page
        # shows 10 replies to every reader.
        ten = conn.execute(text(
            "SELECT t.id FROM thread t WHERE t.space_id = :s AND t.visibility = 'public' AND t.hidden_at IS NULL "
            "AND t.merged_into_id IS NULL AND t.reply_count = 10 AND (SELECT count(*) FROM reply r "
            "WHERE r.thread_id = t.id AND NOT r.is_staff_note AND r.deleted_at IS NULL) = 10 "
            "ORDER BY t.id DESC LIMIT 1"), {"s": space_id}).scalar_one()
    engine.dispose()
    last_page = max(1, -(-listed // OUR_PAGE_SIZE))
    return {"index": "/", "forum_p1": f"/s/{slug}", "forum_deep": f"/s/{slug}?page={last_page}",
            "topic_50posts": f"/t/{targets['thread_id']}", "topic_10posts": f"/t/{ten}"}


def start_ours(marker: dict, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, SECRET_KEY="benchmark-only-" + "x" * 32, DATABASE_URL=marker["url"], PUBLIC_READ="true",
               FORUM_RATELIMIT_ENABLED="false", FORUM_SESSION_COOKIE_SECURE="false",
               FORUM_REMEMBER_COOKIE_SECURE="false", FORUM_MINING_IN_BACKGROUND="false",
               FORUM_PAGE_SIZE=str(OUR_PAGE_SIZE), FORUM_WARM_UP="false")
    # As the README serves it: `gunicorn wsgi:app` from the repository root (gunicorn.conf.py is read there);
    # no control socket, so that it does not take the one other gunicorns on this machine share.
    return subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers),
                             "-b", f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def our_login(client: Any, email: str, password: str) -> None:
    """Sign in through /login with the form's CSRF token, as a browser does."""
    status, _, body, _ = client.request("GET", "/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or \
        re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', body)
    if status != 200 or not token:
        raise SystemExit(f"our login page: status {status}, csrf token {bool(token)}")
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token.group(1).decode(),
                                   "next": "/"})
    status, _, _, _ = client.request("POST", "/login", body=form,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    if status not in (302, 303):
        raise SystemExit(f"our login failed: status {status}")
    status, _, body, _ = client.request("GET", "/")
    if status != 200 or b"/logout" not in body:
        raise SystemExit("our login did not stick (no sign-out form on /)")


# --- measuring ------------------------------------------------------------------------------------------

def wait_ready(measure: ModuleType, port: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            if measure.Client(port).request("GET", "/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server on port {port} not ready after {timeout:.0f} s")


def check(client: Any, name: str, path: str, post_pattern: re.Pattern | None, expect: dict[str, int]) -> int:
    """HTTP 200 with no redirect (an anonymous reader sent to the login page would not count), and the
    thread pages show the number of posts they should; returns the body size."""
    status, _, body, _ = client.request("GET", path)
    if status != 200:
        raise SystemExit(f"{name} {path} -> HTTP {status}")
    if post_pattern is not None and name in expect:
        shown = len(post_pattern.findall(body))
        if shown != expect[name]:
            raise SystemExit(f"{name} {path}: {shown} posts shown, expected {expect[name]}")
    return len(body)


def measure_side(measure: ModuleType, port: int, pages: dict[str, str], cookies: dict, clients: int,
                 per_client: int, warmup: int) -> dict[str, dict]:
    return {name: measure.run_concurrent(port, cookies, pages[name], clients, per_client, warmup) for name in PAGES}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_backend(measure: ModuleType, backend: str, args: argparse.Namespace) -> dict:
    fbb_manifest = json.loads((PEER_CACHE / PEER_BACKEND[backend] / "manifest.json").read_text())
    marker = ensure_ours(backend)
    sides = {
        "flaskbb": {"port": args.port, "pages": flaskbb_pages(measure, fbb_manifest),
                    # FlaskBB's post markup, as the recipe's measure.py counts it
                    "marker": re.compile(rb'class="post-content'),
                    "expect": {"topic_50posts": min(fbb_manifest["topic50_posts"], fbb_manifest["posts_per_page"]),
                               "topic_10posts": min(fbb_manifest["topic10_posts"], fbb_manifest["posts_per_page"])}},
        "ours": {"port": args.port + 1, "pages": our_pages(marker),
                 # a reply's <article> carries its id; the question's and the accepted answer's copy above the
                 # replies carry none
                 "marker": re.compile(rb'<article class="post[^"]*" id="r\d+"'), "expect": {"topic_50posts": 50, "topic_10posts": 10}},
    }
    procs = {"flaskbb": start_flaskbb(backend, args.port, args.workers),
             "ours": start_ours(marker, args.port + 1, args.workers)}
    result: dict[str, Any] = {"backend": backend, "load_start": load_average(), "pages": {}, "rounds": []}
    try:
        for side, proc in procs.items():
            wait_ready(measure, sides[side]["port"], proc)
            result["pages"][side] = sides[side]["pages"]
        roles = {}
        for role in args.roles:
            for side, spec in sides.items():
                client = measure.Client(spec["port"])
                if role == "member":
                    if side == "flaskbb":
                        login = fbb_manifest["member_login"]
                        measure.login(client, login["username"], login["password"])
                    else:
                        our_login(client, marker["targets"]["users"]["customer"],
                                  marker["targets"]["password"])
                sizes = {name: check(client, name, spec["pages"][name], spec["marker"], spec["expect"])
                         for name in PAGES}
                roles[(role, side)] = client.cookies
                result.setdefault("bytes", {})[f"{role}/{side}"] = sizes
        for rnd in range(args.rounds):
            for side in ("flaskbb", "ours"):
                for role in args.roles:
                    started = time.time()
                    figures = measure_side(measure, sides[side]["port"], sides[side]["pages"],
                                           roles[(role, side)], args.clients, args.per_client, args.warmup)
                    result["rounds"].append({"round": rnd + 1, "side": side, "role": role, "load": load_average(),
                                             "seconds": round(time.time() - started, 1), "pages": figures})
                    print(f"{backend} round {rnd + 1} {side:7s} {role:6s} load {load_average()}  " + "  ".join(
                        f"{name} {figures[name]['req_per_s']:.1f}/s" for name in PAGES), flush=True)
                    errors = sum(f["errors"] for f in figures.values())
                    if errors:
                        print(f"  {errors} non-200 answers", flush=True)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    result["load_end"] = load_average()
    return result


def summary(result: dict, roles: list[str]) -> list[dict]:
    """Median req/s over the rounds of each side, and ours / FlaskBB."""
    rows = []
    for role in roles:
        for name in PAGES:
            med = {}
            for side in ("flaskbb", "ours"):
                values = [r["pages"][name]["req_per_s"] for r in result["rounds"] if r["side"] == side and r["role"] == role]
                med[side] = statistics.median(values)
                med[side + "_rounds"] = values
            rows.append({"role": role, "page": name, "flaskbb": med["flaskbb"], "ours": med["ours"],
                         "ratio": med["ours"] / med["flaskbb"] if med["flaskbb"] else float("inf"),
                         "flaskbb_rounds": med["flaskbb_rounds"], "ours_rounds": med["ours_rounds"]})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per side (FlaskBB, ours, FlaskBB, ours, ...)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=25, help="timed requests per client thread and page")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per client thread and page")
    parser.add_argument("--roles", default="anon,member")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8775, help="FlaskBB's port; ours is the next one")
    parser.add_argument("--target", type=float, default=5.0)
    args = parser.parse_args(argv)
    args.roles = args.roles.split(",")
    backends = [b.strip() for b in args.db.split(",")]

    if not (PEER_DIR / "measure.py").exists():
        print(f"skipped: the FlaskBB recipe is not at {PEER_DIR} (set PEER_FLASKBB_DIR)")
        return 0
    measure = load_measure()
    ensure_flaskbb(backends)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = [run_backend(measure, backend, args) for backend in backends]

    print(f"\nstarted {started}; {args.clients} clients x {args.per_client} requests per page and round, "
          f"{args.rounds} alternating rounds per side; 2 CPUs")
    below = 0
    for result in results:
        print(f"\n{result['backend']}: load average {result['load_start']} at the start, {result['load_end']} at the end")
        print("| page | reader | FlaskBB req/s | ours req/s | ours / FlaskBB |")
        print("|---|---|---:|---:|---:|")
        result["summary"] = summary(result, args.roles)
        for row in result["summary"]:
            flag = "" if row["ratio"] >= args.target else " (below target)"
            below += row["ratio"] < args.target
            print(f"| {LABELS[row['page']]} | {'anonymous' if row['role'] == 'anon' else 'signed in'} "
                  f"| {row['flaskbb']:.1f} | {row['ours']:.1f} | {row['ratio']:.1f}x{flag} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "flaskbb_compare.json").write_text(json.dumps({"started": started, "args": vars(args),
                                                          "results": results}, indent=2))
    print(f"\n{below} page/reader/database cells below {args.target:g}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
