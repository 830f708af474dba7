"""The short fault drills, end to end: bench/drills.py --quick against a real gunicorn, PostgreSQL and Redis.

Workers are killed with SIGKILL, the broker and the database are made unreachable for a few seconds and 200
malformed requests are sent, all while clients write with Idempotency-Keys; nothing acknowledged may be lost,
nothing stored twice, and the only 5xx are the 503s of the database outage.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def test_quick_drills_lose_nothing_and_answer_bad_input_with_4xx(tmp_path):
    port = 18000 + (abs(hash(str(tmp_path))) % 2000)
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "drills.py"), "--quick", "--broker",
                             "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    report = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert int(report["acknowledged writes"]) > 0
    assert report["acknowledged but lost"] == "0"
    assert report["duplicates (same write stored twice)"] == "0"
    assert report["fuzz 5xx"] == "0", report["other 5xx answers"]
    fives = ast.literal_eval(report["5xx by drill and status"])
    assert set(fives) <= {"database down 503"}, (fives, report["other 5xx answers"])
    assert report["outbox empty after broker's return (s)"] != "None"


def test_an_answer_counts_in_the_drill_its_request_was_sent_in():
    """A request the database outage overlapped, sent before it or while it lasted and answered 503 after, is the
    outage's answer: the report must not charge it to the drill before or after (the full drill failed so twice)."""
    import http.server
    import threading
    import time

    sys.path.insert(0, str(ROOT / "bench"))
    from drills import Client

    class Slow503(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the handler's name is http.server's
            time.sleep(0.5)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow503)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Client(f"http://127.0.0.1:{server.server_address[1]}", "token")
        for sent, answered in (("database down", "database back"), ("broker back", "database down")):
            client.phase = sent
            call = threading.Thread(target=client.call, args=("POST", "/api/v1/threads", b"{}"))
            call.start()
            time.sleep(0.2)
            client.phase = answered
            call.join(10)
    finally:
        server.shutdown()
    assert client.counts == {("database down", 503): 2}
    assert client.failures[0].startswith("database down: POST /api/v1/threads -> 503")
