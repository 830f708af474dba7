"""Mining runs hold a lease: a crashed run is given up by the next start, and starting is atomic."""
from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import MiningRun, RunStatus, utcnow
from forum.services.patterns import leases
from forum.services.patterns.leases import RunAlreadyActive
from forum.services.vectors.embeddings import ensure_embeddings, texts_for, thread_documents
from tests.forum.patterns.test_mining_runs import CountingEmbedder, forum_threads  # noqa: F401  (fixture)


def _crashed_run(heartbeat_age: timedelta) -> int:
    """What ``kill -9`` of ``flask mine`` leaves: a running run whose heartbeat stopped ``heartbeat_age`` ago."""
    run = leases.create_run(None, "cli")
    assert leases.claim(run.id)
    db.session.execute(db.update(MiningRun).where(MiningRun.id == run.id)
                       .values(heartbeat_at=utcnow() - heartbeat_age, stage="embedding"))
    db.session.commit()
    return run.id


def test_next_mine_gives_up_a_crashed_run_and_resumes(app, forum_threads, monkeypatch):  # noqa: F811
    embedder = CountingEmbedder()
    monkeypatch.setattr("forum.services.patterns.runs.get_embedder", lambda: embedder)
    # The crashed run had embedded ten threads before it was killed.
    ensure_embeddings(texts_for(thread_documents()[:10]), embedder)
    crashed = _crashed_run(timedelta(seconds=app.config.get("MINING_RUN_LEASE_SECONDS", 120) + 5))

    result = app.test_cli_runner().invoke(args=["mine"])

    assert result.exit_code == 0, result.output
    assert "33 threads (23 newly embedded)" in result.output  # resumed: only what the crash left undone
    assert db.session.get(MiningRun, crashed).status is RunStatus.INTERRUPTED


def test_a_live_run_keeps_its_lease(app, forum_threads):  # noqa: F811
    live = _crashed_run(timedelta(seconds=30))  # heartbeat 30 s ago: within the lease
    with pytest.raises(RunAlreadyActive):
        leases.create_run(None, "cli")
    assert db.session.get(MiningRun, live).status is RunStatus.RUNNING


def test_a_run_queued_without_a_worker_is_given_up(app):
    run = leases.create_run(None, "web")
    db.session.execute(db.update(MiningRun).where(MiningRun.id == run.id).values(
        created_at=utcnow() - timedelta(seconds=app.config.get("MINING_RUN_QUEUE_SECONDS", 900) + 5)))
    db.session.commit()
    assert leases.active_run() is None
    assert db.session.get(MiningRun, run.id).status is RunStatus.INTERRUPTED
    assert leases.create_run(None, "web").status is RunStatus.QUEUED


def test_the_database_holds_at_most_one_active_run(app):
    db.session.add_all([MiningRun(status=RunStatus.FINISHED), MiningRun(status=RunStatus.FINISHED),
                        MiningRun(status=RunStatus.QUEUED)])
    db.session.commit()
    db.session.add(MiningRun(status=RunStatus.RUNNING))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_processes_starting_together_start_one_run(app, monkeypatch):
    """Both look, find nothing active, then insert: the database lets one through."""
    looked = threading.Barrier(2, timeout=10)
    real_active_run = leases.active_run

    def active_run_then_wait():
        found = real_active_run()
        looked.wait()
        return found

    monkeypatch.setattr(leases, "active_run", active_run_then_wait)
    outcomes: list[str] = []

    def start() -> None:
        with app.app_context():
            try:
                leases.create_run(None, "cli")
                outcomes.append("started")
            except RunAlreadyActive:
                outcomes.append("refused")
            finally:
                db.session.remove()

    workers = [threading.Thread(target=start) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(outcomes) == ["refused", "started"]
    assert db.session.execute(db.select(db.func.count(MiningRun.id))).scalar() == 1


def test_a_running_run_renews_its_heartbeat(app, forum_threads):  # noqa: F811
    app.config["MINING_RUN_HEARTBEAT_SECONDS"] = 0.05

    class Slow(CountingEmbedder):
        def embed(self, texts):
            time.sleep(0.4)
            return super().embed(texts)

    run = leases.create_run(None, "cli")
    finished = leases.carry_out(run.id, embedder=Slow())
    assert finished.status is RunStatus.FINISHED
    assert finished.heartbeat_at > finished.started_at + timedelta(seconds=0.2)


def test_a_run_taken_by_another_worker_is_not_carried_out_twice(app, forum_threads):  # noqa: F811
    run = leases.create_run(None, "web")
    assert leases.claim(run.id)
    assert leases.carry_out(run.id, embedder=CountingEmbedder()) is None


def test_the_patterns_page_gives_up_a_crashed_run_and_offers_mine_now(app, client, login, make):
    """The page's latest run is read after the stale ones are given up: no disabled button for a dead run."""
    lead = make.employee(is_lead=True)
    crashed = _crashed_run(timedelta(seconds=app.config.get("MINING_RUN_LEASE_SECONDS", 120) + 5))
    login(lead)

    status = client.get("/patterns/status.json").get_json()
    page = client.get("/patterns/").get_data(as_text=True)

    assert status["id"] == crashed and status["status"] == "interrupted" and status["active"] is False
    assert db.session.get(MiningRun, crashed).status is RunStatus.INTERRUPTED
    assert re.search(r"<button[^>]*>\s*Mine now", page)  # enabled: no "disabled" inside the tag
    assert not re.search(r"<button[^>]*disabled[^>]*>\s*Mine now", page)
