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
