"""Stored figures of the patterns page: equal to the live computation, refreshed when the data moves."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from forum.extensions import db
from forum.models import PatternSnapshot
from forum.services.patterns import curation
from forum.services.patterns import snapshots as pattern_snapshots
from forum.services.patterns import summaries as service
from tests.forum.patterns.test_list_page import NOW, world  # noqa: F401  (fixtures)
from tests.forum.patterns.test_mining_runs import CountingEmbedder, _run, forum_threads  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _stored_figures(app):
    app.config["PATTERN_CACHE_SECONDS"] = 600
    pattern_snapshots._decoded.clear()
    yield
    pattern_snapshots.wait_for_refreshes()
    pattern_snapshots._decoded.clear()


def _plain(summaries) -> list[dict]:
    return [dataclasses.asdict(s) for s in summaries]


@pytest.mark.parametrize("filters", [
    service.PatternFilters(),
    service.PatternFilters(version="Ledger::7.2"),
    service.PatternFilters(since=NOW.date().replace(day=1), until=NOW.date()),
])
@pytest.mark.parametrize("sort", list(service.SORTS))
def test_stored_figures_equal_the_live_computation(world, filters, sort):  # noqa: F811
    first, first_at = pattern_snapshots.page_summaries(filters, sort)
    again, again_at = pattern_snapshots.page_summaries(filters, sort)      # read back from the stored row
    live = service.summarise(filters, sort=sort)
    assert live and _plain(first) == _plain(live) and _plain(again) == _plain(live)
    assert first_at == again_at is not None


def test_second_view_does_not_compute(world, monkeypatch):  # noqa: F811
    pattern_snapshots.page_summaries(service.PatternFilters())
    pattern_snapshots._decoded.clear()  # as in another worker process: only the stored row is there

    def refuse(*args, **kwargs):
        raise AssertionError("computed again although nothing changed")

    monkeypatch.setattr(pattern_snapshots, "summarise", refuse)
    names = {s.pattern.name for s in pattern_snapshots.page_summaries(service.PatternFilters())[0]}
    assert names == {"LDAP sync timeout", "SSO redirect loop"}


def test_filing_a_thread_is_counted_after_a_background_refresh(world, app, make):  # noqa: F811
    app.config.update(PATTERN_FIGURES_IN_BACKGROUND=True, PATTERN_FIGURES_MIN_SECONDS=0)
    before, before_at = pattern_snapshots.page_summaries(service.PatternFilters())
    y_threads = {s.pattern.name: s.threads for s in before}["SSO redirect loop"]
    curation.file_thread(world.lead, world.y, world.t1)               # moves t1 from X into Y
    stale, stale_at = pattern_snapshots.page_summaries(service.PatternFilters())
    assert stale_at == before_at and _plain(stale) == _plain(before)  # served at once, while it recomputes
    pattern_snapshots.wait_for_refreshes()
    fresh, fresh_at = pattern_snapshots.page_summaries(service.PatternFilters())
    assert fresh_at > before_at
    assert {s.pattern.name: s.threads for s in fresh}["SSO redirect loop"] == y_threads + 1
    assert _plain(fresh) == _plain(service.summarise(service.PatternFilters()))


def test_inline_refresh_when_not_in_background(world, app):  # noqa: F811
    app.config["PATTERN_FIGURES_IN_BACKGROUND"] = False
    pattern_snapshots.page_summaries(service.PatternFilters())
    curation.exclude_thread(world.lead, world.x, world.t2)
    after, _ = pattern_snapshots.page_summaries(service.PatternFilters())
    assert _plain(after) == _plain(service.summarise(service.PatternFilters()))


def test_rename_and_dismissal_show_at_once(world, app):  # noqa: F811
    app.config["PATTERN_FIGURES_IN_BACKGROUND"] = True
    pattern_snapshots.page_summaries(service.PatternFilters())
    curation.rename(world.lead, world.x, "Directory sync timeout")
    curation.dismiss(world.lead, world.y)
    names = [s.pattern.name for s in pattern_snapshots.page_summaries(service.PatternFilters())[0]]
    assert names == ["Directory sync timeout"]


def test_page_says_when_the_figures_were_computed(world, client, login):  # noqa: F811
    login(world.employee)
    html = client.get("/patterns/").get_data(as_text=True)
    stored = db.session.execute(db.select(PatternSnapshot.computed_at)).scalar_one()
    assert f"Figures as of <time datetime=\"{stored.isoformat(timespec='minutes')}Z\">" in html


def test_no_snapshot_when_the_cache_is_off(world, app):  # noqa: F811
    app.config["PATTERN_CACHE_SECONDS"] = 0
    summaries, at = pattern_snapshots.page_summaries(service.PatternFilters())
    assert at is None and _plain(summaries) == _plain(service.summarise())
    assert db.session.execute(db.select(PatternSnapshot)).first() is None


def test_a_mining_run_stores_the_page_figures(forum_threads):  # noqa: F811
    run = _run(CountingEmbedder())
    stored = db.session.execute(db.select(PatternSnapshot)).scalar_one()
    assert stored.key == pattern_snapshots.snapshot_key(service.PatternFilters())
    assert stored.computed_at >= run.finished_at
    assert {item["pattern_id"] for item in stored.figures} == {s.pattern.id for s in service.summarise()}


def test_pattern_page_figures_equal_the_live_ones(world, client, login):  # noqa: F811
    live = {s.pattern.id: s for s in service.summarise(statuses=tuple(service.PatternStatus))}
    for row in (world.x, world.y, world.z):                             # z is dismissed: computed alone
        assert dataclasses.asdict(pattern_snapshots.pattern_summary(row)) == dataclasses.asdict(live[row.id])
    login(world.employee)
    assert "LDAP sync timeout" in client.get(f"/patterns/{world.x.id}").get_data(as_text=True)


def test_remembered_term_hits_and_map_follow_membership_changes(world, make):  # noqa: F811
    from forum.services.patterns import detail as pattern_detail

    assert pattern_detail.term_hits(world.x)[0] == 5                  # t1..t4 mined, t5 filed
    assert set(pattern_detail.pattern_map().names) == {world.x.id, world.y.id}
    assert pattern_detail.customers_by_month(world.x)[-1] == ("2026-06", 2)          # B and C
    assert ("Ledger 7.2", 2) in pattern_detail.customers_by_version(world.x)
    extra = make.thread(world.users["e"], space=world.space, title="LDAP sync stops again",
                        created_at=datetime(2026, 7, 2), deployment_id=world.dep_e.id,
                        deployment_snapshot=world.dep_e.snapshot())
    curation.file_thread(world.lead, world.x, extra)
    total, keywords, _ = pattern_detail.term_hits(world.x)
    assert total == 6 and dict(keywords)["ldap"] == 2
    assert pattern_detail.customers_by_month(world.x)[-1] == ("2026-07", 1)
    assert ("Ledger 7.2", 3) in pattern_detail.customers_by_version(world.x)
    curation.dismiss(world.lead, world.y)
    assert set(pattern_detail.pattern_map().names) == {world.x.id}


def test_moving_data_recomputes_at_most_once_per_minimum_age(world, app, make, monkeypatch):  # noqa: F811
    app.config.update(PATTERN_FIGURES_MIN_SECONDS=15, PATTERN_FIGURES_IN_BACKGROUND=True)
    first_at = pattern_snapshots.page_summaries(service.PatternFilters())[1]
    make.reply(world.t3, world.solver)                                  # new activity: the fingerprint moves
    assert pattern_snapshots.page_summaries(service.PatternFilters())[1] == first_at
    pattern_snapshots.wait_for_refreshes()
    assert pattern_snapshots.page_summaries(service.PatternFilters())[1] == first_at   # too young: kept
    later = pattern_snapshots.utcnow() + timedelta(seconds=16)
    monkeypatch.setattr(pattern_snapshots, "utcnow", lambda: later)
    assert pattern_snapshots.page_summaries(service.PatternFilters())[1] == first_at   # served, refreshing
    pattern_snapshots.wait_for_refreshes()
    assert pattern_snapshots.page_summaries(service.PatternFilters())[1] == later
