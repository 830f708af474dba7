"""Mining runs started by real ``flask mine`` processes, exactly as the README runs them: two started together
make one run, and a run killed with ``kill -9`` is resumed by the next ``flask mine`` once its lease ran out."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forum.extensions import db
from forum.models import MiningRun, RunStatus, ThreadEmbedding
from tests.forum.patterns.test_mining_runs import forum_threads  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
# The README's command, with the flask script of the venv running these tests, from the repository root.
README_MINE = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "mine"]
LEASE_SECONDS = 30  # a loaded 2-core machine starts a flask process in 5-15 s: the refusal must come inside it
REFUSAL = "a mining run is already in progress; wait for it to finish"


def _env(app) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="lease-test-secret",
               FORUM_MINING_RUN_LEASE_SECONDS=str(LEASE_SECONDS), FORUM_MINING_RUN_HEARTBEAT_SECONDS="1",
               HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)
    return env


def _mine(app, tmp_path: Path, name: str) -> subprocess.Popen:
    out = (tmp_path / f"{name}.log").open("w")
    proc = subprocess.Popen(README_MINE, cwd=ROOT, env=_env(app), stdout=out, stderr=subprocess.STDOUT)
    proc.log = tmp_path / f"{name}.log"
    return proc


def _runs() -> list[MiningRun]:
    db.session.expire_all()
    return db.session.execute(db.select(MiningRun).order_by(MiningRun.id)).scalars().all()


def test_two_starts_make_one_run_and_a_killed_run_is_resumed(app, forum_threads, tmp_path):  # noqa: F811
    first, second = _mine(app, tmp_path, "first"), _mine(app, tmp_path, "second")
    try:
        # One of the two is refused cleanly while the other loads the embedding model (seconds).
        deadline = time.monotonic() + 120
        while first.poll() is None and second.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        refused, winner = (first, second) if first.poll() is not None else (second, first)
        output = refused.log.read_text()
        assert refused.returncode == 1, output
        assert REFUSAL in output and "Traceback" not in output and "IntegrityError" not in output, output

        # The winner's run is running; kill -9 it before it finishes.
        while time.monotonic() < deadline and not any(r.status is RunStatus.RUNNING for r in _runs()):
            assert winner.poll() is None, winner.log.read_text()
            time.sleep(0.05)
        assert winner.poll() is None, winner.log.read_text()
        os.kill(winner.pid, signal.SIGKILL)
        winner.wait(10)
        killed_at = time.monotonic()
        runs = _runs()
        assert [r.status for r in runs] == [RunStatus.RUNNING]
        killed = runs[0].id

        # Within the lease, the next flask mine refuses (the run might still be alive, for all it knows) ...
        soon = subprocess.run(README_MINE, cwd=ROOT, env=_env(app), capture_output=True, text=True, timeout=120)
        assert time.monotonic() - killed_at < LEASE_SECONDS, "the refusal came too late to test the lease"
        assert soon.returncode == 1 and REFUSAL in soon.stderr + soon.stdout, soon.stderr
        # ... and once the lease ran out, it gives the dead run up and resumes, with no hand edit.
        time.sleep(max(0.0, LEASE_SECONDS + 1 - (time.monotonic() - killed_at)))
        later = subprocess.run(README_MINE, cwd=ROOT, env=_env(app), capture_output=True, text=True, timeout=300)
        assert later.returncode == 0, later.stderr + later.stdout
        assert "Mining run" in later.stdout and "33 threads" in later.stdout

        runs = _runs()
        assert [r.status for r in runs] == [RunStatus.INTERRUPTED, RunStatus.FINISHED]
        assert runs[0].id == killed and "no heartbeat" in runs[0].error
        assert db.session.execute(db.select(db.func.count(ThreadEmbedding.thread_id))).scalar() == 33
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
