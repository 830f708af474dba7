"""The patterns page's mining panel tells the truth about the latest run, and "Mine now" is disabled exactly while
a run holds the lease: nothing yet, queued, stuck (no worker took it, or its heartbeat stopped), running with
its counts, failed with the reason, interrupted, finished."""
from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import MiningRun, RunStatus, utcnow
from tests.factories import csrf_token_from

HEARTBEAT = 15  # MINING_RUN_HEARTBEAT_SECONDS at its default: four missed beats (60 s) make a run look stuck


@pytest.fixture()
def lead_client(app, client, login, make):
    app.config.update(MINING_RUN_HEARTBEAT_SECONDS=HEARTBEAT, MINING_RUN_LEASE_SECONDS=120,
                      MINING_RUN_QUEUE_SECONDS=900)
    login(make.employee(is_lead=True))
    return client


def _run(status: RunStatus, age: float = 0, heartbeat_age: float | None = None, **values) -> int:
    now = utcnow()
    run = MiningRun(status=status, created_at=now - timedelta(seconds=age), trigger="web", **values)
    if status is not RunStatus.QUEUED:
        run.started_at = now - timedelta(seconds=age)
    if heartbeat_age is not None:
        run.heartbeat_at = now - timedelta(seconds=heartbeat_age)
    db.session.add(run)
    db.session.commit()
    return run.id


def _panel(client) -> tuple[str, bool, dict]:
    """The panel's status text, whether Mine now is disabled, and status.json."""
    page = client.get("/patterns/").get_data(as_text=True)
    button = re.search(r"<button[^>]*id=\"mine-now\"[^>]*>", page)
    assert button is not None, "Mine now is missing"
    status = re.search(r'<p class="run-status"[^>]*>(.*?)</p>', page, re.S).group(1)
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", status)).split())
    state = client.get("/patterns/status.json").get_json()
    assert " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", state["html"])).split()) == text
    return text, " disabled" in button.group(0), state


def test_no_run_yet(lead_client):
    text, disabled, state = _panel(lead_client)
    assert text == "No mining run yet." and not disabled and state["active"] is False


def test_queued(lead_client):
    run_id = _run(RunStatus.QUEUED, age=10)
    text, disabled, state = _panel(lead_client)
    assert text.startswith(f"Run {run_id} is queued, waiting for a worker") and disabled
    assert (state["state"], state["active"]) == ("queued", True)


def test_stuck_when_no_worker_takes_a_queued_run(lead_client):
    run_id = _run(RunStatus.QUEUED, age=5 * 60)
    text, disabled, state = _panel(lead_client)
    assert f"Run {run_id} looks stuck: queued 5 minutes ago and no worker has taken it" in text
    given_up = (utcnow() - timedelta(seconds=5 * 60) + timedelta(seconds=900)).strftime("%H:%M")
    assert f"given up at {given_up}" in text and disabled
    assert (state["state"], state["active"]) == ("stuck", True)


def test_stuck_when_the_heartbeat_stops(lead_client):
    started = utcnow()
    run_id = _run(RunStatus.RUNNING, age=600, heartbeat_age=90, stage="embedding", progress_done=300,
                  progress_total=1200)
    text, disabled, state = _panel(lead_client)
    # the page counts from when it renders: on a loaded machine a second may pass after the row is written
    waited = int((utcnow() - started).total_seconds())
    silent = re.search(rf"Run {run_id} looks stuck: no heartbeat for (\d+) s \(last at embedding, 300 of 1,200\)",
                       text)
    assert silent and 90 <= int(silent.group(1)) <= 90 + waited + 1, text
    assert disabled and (state["state"], state["active"]) == ("stuck", True)
    assert db.session.get(MiningRun, run_id).status is RunStatus.RUNNING  # within the lease: not given up yet


def test_running_with_its_counts(lead_client):
    run_id = _run(RunStatus.RUNNING, age=30, heartbeat_age=5, stage="embedding", progress_done=1500,
                  progress_total=33000, documents=33000)
    text, disabled, state = _panel(lead_client)
    assert text == f"Run {run_id} is running: embedding, 1,500 of 33,000 threads." and disabled
    assert (state["state"], state["active"], state["done"], state["total"]) == ("running", True, 1500, 33000)
    page = lead_client.get("/patterns/").get_data(as_text=True)
    assert re.search(r'<progress id="run-progress" max="33000"\s+value="1500"', page)
    db.session.execute(db.update(MiningRun).where(MiningRun.id == run_id).values(stage="clustering"))
    db.session.commit()
    assert _panel(lead_client)[0] == f"Run {run_id} is running: grouping 33,000 threads into patterns."


def test_failed_with_the_reason(lead_client):
    run_id = _run(RunStatus.FAILED, age=120, finished_at=utcnow(), error="RuntimeError: model file missing")
    text, disabled, state = _panel(lead_client)
    assert text == f"Last run {run_id} failed just now: RuntimeError: model file missing." and not disabled
    assert (state["state"], state["active"], state["error"]) == ("failed", False, "RuntimeError: model file missing")


def test_a_dead_run_is_shown_interrupted_and_mine_now_resumes(lead_client):
    run_id = _run(RunStatus.RUNNING, age=600, heartbeat_age=121, stage="embedding")
    text, disabled, state = _panel(lead_client)
    assert text.startswith(f"Last run {run_id} was interrupted just now: its process stopped (no heartbeat)")
    assert text.endswith("Mine now resumes it.") and not disabled and state["state"] == "interrupted"


def test_finished(lead_client):
    run_id = _run(RunStatus.FINISHED, age=40, finished_at=utcnow(), documents=1234, patterns_found=17)
    text, disabled, state = _panel(lead_client)
    assert text.startswith(f"Last run {run_id}: finished just now — 1,234 threads, 17 patterns, ") and not disabled
    assert (state["state"], state["active"], state["patterns_found"]) == ("finished", False, 17)


def test_mine_now_on_a_stuck_run_is_refused_cleanly(lead_client):
    _run(RunStatus.QUEUED, age=5 * 60)
    token = csrf_token_from(lead_client.get("/patterns/").get_data(as_text=True))
    response = lead_client.post("/patterns/mine", data={"csrf_token": token})
    assert response.status_code == 303
    assert "A mining run is already in progress." in lead_client.get("/patterns/").get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(MiningRun.id))).scalar() == 1


def test_a_disabled_button_looks_disabled(lead_client):
    css = lead_client.get("/static/groundwork.css").get_data(as_text=True)
    rule = re.search(r"([^{}]*button:disabled[^{}]*)\{([^}]*)\}", css)
    assert rule is not None, "no style for a disabled button"
    assert "background" in rule.group(2) and "cursor: not-allowed" in rule.group(2)
