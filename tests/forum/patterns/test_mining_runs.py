"""Mining runs in the forum: incremental embeddings, stable identities, curation kept, assignment between runs."""
from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from forum.extensions import db
from forum.models import (
    MembershipSource,
    MiningRun,
    Pattern,
    PatternMember,
    PatternStatus,
    RunStatus,
    Thread,
    ThreadEmbedding,
)
from forum.services.patterns import leases
from forum.services.patterns import runs as mining_runs
from forum.services.vectors.embeddings import embedder_key

TOPICS = {
    "ora": ["Upgrade step times out with ORA-01555 snapshot too old on the {x} schema",
            "ORA-01555 during the {x} data migration step of the upgrade",
            "Upgrade to 7.2 fails at step 58: ORA-01555 on large {x} tables"],
    "saml": ["SAML login rejected: assertion NotBefore in the future on {x}",
             "SSO fails with clock skew error after moving {x} to new servers",
             "Users cannot sign in through SAML, {x} logs show NotOnOrAfter expired"],
    "smtp": ["Purchase order emails not sent since the SMTP relay on {x} changed",
             "Outgoing mail stuck in queue: relay access denied from {x}",
             "SMTP authentication failure when {x} sends notifications"],
}
PLACES = ["finance", "warehouse", "retail", "plant", "payroll", "sales", "berlin", "madrid", "austin", "osaka"]


class CountingEmbedder:
    """A deterministic bag-of-words embedder that counts what it is asked to embed."""

    model_name = "counting-bow-v1"
    # mean pairwise cosine of one topic's threads in this space: 0.62 (0.39 over all topics)
    same_problem_similarity = 0.5

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, zlib.crc32(word.strip(".,:;!?").encode()) % 256] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out

    @property
    def embedded(self) -> int:
        return sum(self.calls)


@pytest.fixture()
def forum_threads(app, make):
    """Thirty threads on three recurring topics from ten customers, plus a few one-offs."""
    space = make.space("Installations")
    by_topic: dict[str, list[int]] = {}
    for topic, templates in TOPICS.items():
        for i, place in enumerate(PLACES):
            author = make.user(make.customer_org(f"{topic} customer {place}"))
            thread = make.thread(author, space=space, title=templates[i % 3].format(x=place),
                                 body=f"We run the {place} environment. " + templates[(i + 1) % 3].format(x=place))
            by_topic.setdefault(topic, []).append(thread.id)
    loner = make.user(make.customer_org("loner"))
    for title in ["Where is the holiday calendar?", "Logo upload for the portal", "Printer tray settings"]:
        make.thread(loner, space=space, title=title)
    return by_topic


def _run(embedder, **params) -> MiningRun:
    run = leases.create_run(None, "test", params or None)
    return leases.carry_out(run.id, embedder=embedder)


def _members(pattern_id: int) -> set[int]:
    return set(db.session.execute(db.select(PatternMember.thread_id).where(
        PatternMember.pattern_id == pattern_id, PatternMember.source != MembershipSource.EXCLUDED)).scalars())


def _pattern_of(thread_id: int) -> int | None:
    return db.session.execute(db.select(PatternMember.pattern_id).where(
        PatternMember.thread_id == thread_id, PatternMember.source != MembershipSource.EXCLUDED)).scalar()


def test_a_run_groups_recurring_topics_and_records_itself(forum_threads):
    embedder = CountingEmbedder()
    run = _run(embedder)
    assert run.status is RunStatus.FINISHED and run.documents == 33 and run.embedded == 33
    assert run.started_at and run.finished_at and run.duration_seconds >= 0
    assert run.model_name == embedder_key(embedder) and run.patterns_found >= 3
    assert 0 <= run.noise_fraction < 0.5 and run.quality["assign_threshold"] <= 1
    for topic, ids in forum_threads.items():
        owners = [_pattern_of(t) for t in ids]
        top = max(set(owners), key=owners.count)
        assert top is not None and owners.count(top) >= 8, (topic, owners)
    stored = db.session.execute(db.select(ThreadEmbedding)).scalars().all()
    assert len(stored) == 33 and all(len(row.vector) == 256 * 4 for row in stored)


def test_second_run_embeds_only_new_and_edited_threads(forum_threads, make):
    embedder = CountingEmbedder()
    _run(embedder)
    assert embedder.embedded == 33
    author = make.user(make.customer_org("late customer"))
    for i in range(10):
        make.thread(author, title=f"SMTP relay refuses mail from node {i}", body="relay access denied")
    _run(embedder)
    assert embedder.embedded == 33 + 10
    from forum.models import Thread

    thread = db.session.get(Thread, forum_threads["ora"][0])
    thread.body_md += " Edited: also seen on the test system."
    db.session.commit()
    run = _run(embedder)
    assert run.embedded == 1 and embedder.embedded == 44


def test_identity_names_and_curation_survive_a_rerun(forum_threads):
    embedder = CountingEmbedder()
    _run(embedder)
    ora, saml, smtp = (_pattern_of(forum_threads[t][0]) for t in ("ora", "saml", "smtp"))
    assert len({ora, saml, smtp}) == 3
    renamed = db.session.get(Pattern, ora)
    renamed.name, renamed.name_curated = "Upgrade step 58 snapshot too old", True
    db.session.get(Pattern, smtp).status = PatternStatus.DISMISSED
    outsider = forum_threads["saml"][1]
    db.session.execute(db.delete(PatternMember).where(PatternMember.thread_id == outsider))
    db.session.add(PatternMember(pattern_id=saml, thread_id=outsider, source=MembershipSource.EXCLUDED))
    filed = forum_threads["ora"][2]
    db.session.execute(db.delete(PatternMember).where(PatternMember.thread_id == filed))
    db.session.add(PatternMember(pattern_id=smtp, thread_id=filed, source=MembershipSource.FILED))
    db.session.commit()

    _run(embedder)
    db.session.expire_all()
    assert _pattern_of(forum_threads["ora"][0]) == ora
    assert db.session.get(Pattern, ora).name == "Upgrade step 58 snapshot too old"
    assert _pattern_of(forum_threads["saml"][0]) == saml
    assert db.session.get(Pattern, smtp).status is PatternStatus.DISMISSED
    assert _pattern_of(forum_threads["smtp"][0]) == smtp  # still mapped to the dismissed pattern: stays hidden
    assert outsider not in _members(saml)
    assert filed in _members(smtp) and filed not in _members(ora)


def test_identities_kept_when_five_percent_new_threads_arrive(forum_threads, make):
    embedder = CountingEmbedder()
    _run(embedder)
    before = {t: _pattern_of(ids[0]) for t, ids in forum_threads.items()}
    author = make.user(make.customer_org("newcomer"))
    make.thread(author, title="ORA-01555 again during upgrade of the ledger schema")
    make.thread(author, title="SAML NotBefore clock skew on the new node")
    _run(embedder)
    assert {t: _pattern_of(ids[0]) for t, ids in forum_threads.items()} == before


def test_new_thread_is_assigned_to_the_nearest_pattern(forum_threads, make):
    embedder = CountingEmbedder()
    _run(embedder)
    saml = _pattern_of(forum_threads["saml"][0])
    author = make.user(make.customer_org("fresh customer"))
    fresh = make.thread(author, title="SAML login rejected: assertion NotBefore in the future on finance",
                        body="SSO fails with clock skew error after moving finance to new servers")
    member = mining_runs.assign_thread(fresh.id, embedder=embedder)
    assert member is not None and member.pattern_id == saml and member.source is MembershipSource.ASSIGNED
    odd = make.thread(author, title="Colour of the holiday banner", body="purely cosmetic")
    assert mining_runs.assign_thread(odd.id, embedder=embedder) is None


def test_only_one_run_at_a_time(forum_threads):
    leases.create_run(None, "test")
    with pytest.raises(leases.RunAlreadyActive):
        leases.create_run(None, "test")


def test_failed_run_is_recorded(forum_threads):
    class Broken(CountingEmbedder):
        def embed(self, texts):
            raise RuntimeError("model file missing")

    run = leases.create_run(None, "test")
    with pytest.raises(RuntimeError):
        leases.carry_out(run.id, embedder=Broken())
    run = db.session.get(MiningRun, run.id)
    assert run.status is RunStatus.FAILED and "model file missing" in run.error


def test_mine_command_reports_a_summary(app, forum_threads, monkeypatch):
    embedder = CountingEmbedder()
    monkeypatch.setattr("forum.services.patterns.runs.get_embedder", lambda: embedder)
    result = app.test_cli_runner().invoke(args=["mine"])
    assert result.exit_code == 0, result.output
    assert "33 threads (33 newly embedded)" in result.output and "patterns" in result.output
    again = app.test_cli_runner().invoke(args=["mine"])
    assert "(0 newly embedded)" in again.output


def test_posting_a_question_assigns_it_right_away(app, client, login, make, forum_threads, monkeypatch):
    embedder = CountingEmbedder()
    monkeypatch.setattr("forum.services.patterns.runs.get_embedder", lambda: embedder)
    _run(embedder)
    saml = _pattern_of(forum_threads["saml"][0])
    app.config["MINING_ASSIGN_NEW_THREADS"] = True
    from forum.models import Space, Thread
    from tests.factories import csrf_token_from

    asker = make.user(make.customer_org("asking customer"))
    login(asker)
    space = db.session.execute(db.select(Space)).scalars().first()
    token = csrf_token_from(client.get("/ask").get_data(as_text=True))
    response = client.post("/ask", data={
        "csrf_token": token, "title": "SAML login rejected: assertion NotBefore in the future on finance",
        "body": "We run the finance environment. SSO fails with clock skew error after moving finance to new servers",
        "space": space.id, "kind": "question", "visibility": "public", "tags": "", "deployment": 0})
    assert response.status_code in (302, 303), re.findall(r"class=\"error\"[^<]*>([^<]*)", response.get_data(as_text=True))
    new_id = db.session.execute(db.select(Thread.id).order_by(Thread.id.desc())).scalar()
    member = db.session.execute(db.select(PatternMember).where(PatternMember.thread_id == new_id)).scalar_one()
    assert member.pattern_id == saml and member.source is MembershipSource.ASSIGNED


def test_leads_hear_once_about_emerging_patterns(forum_threads, make):
    from forum.models import Notification, NotificationKind

    lead = make.employee(is_lead=True)
    embedder = CountingEmbedder()
    _run(embedder)  # ten new customers per topic within days: every recurring topic is emerging

    def told() -> set[int]:
        return set(db.session.execute(db.select(Notification.pattern_id).where(
            Notification.user_id == lead.id, Notification.kind == NotificationKind.PATTERN_EMERGING)).scalars())

    first = told()
    assert {_pattern_of(ids[0]) for ids in forum_threads.values()} <= first
    count = db.session.execute(db.select(db.func.count(Notification.id))).scalar()
    _run(embedder)
    assert told() == first
    assert db.session.execute(db.select(db.func.count(Notification.id))).scalar() == count


def test_patterns_carry_their_theme_and_how_alike_their_threads_are(forum_threads):
    _run(CountingEmbedder())
    patterns = db.session.execute(db.select(Pattern).where(Pattern.status == PatternStatus.ACTIVE)).scalars().all()
    assert len(patterns) == 3
    assert all(p.theme and len(p.theme) <= 120 for p in patterns)
    assert all(0.5 <= p.pair_similarity <= 1 for p in patterns)  # this embedder's same-problem similarity


def test_a_pattern_joined_by_a_later_run_redirects_to_its_successor_with_a_note(
        app, client, login, make, forum_threads):
    embedder = CountingEmbedder()
    _run(embedder)
    before = {t: _pattern_of(ids[0]) for t, ids in forum_threads.items()}
    _run(embedder, n_patterns=2)  # a later run joins two of the three problems
    db.session.expire_all()
    retired = db.session.execute(db.select(Pattern).where(Pattern.status == PatternStatus.MERGED)).scalars().all()
    assert len(retired) == 1 and retired[0].id in before.values()
    old = retired[0]
    successor = db.session.get(Pattern, old.merged_into_id)
    assert successor.status is PatternStatus.ACTIVE
    topic = next(t for t, pid in before.items() if pid == old.id)
    assert _pattern_of(forum_threads[topic][0]) == successor.id

    login(make.employee(is_lead=True))
    response = client.get(f"/patterns/{old.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/patterns/{successor.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Pattern #{old.id}" in page and "is now part of this pattern" in page


def test_leads_see_the_threads_no_pattern_holds(app, client, login, make, forum_threads):
    _run(CountingEmbedder())
    login(make.employee(is_lead=True))
    page = client.get("/patterns/unassigned").get_data(as_text=True)
    for title in ["Where is the holiday calendar?", "Logo upload for the portal", "Printer tray settings"]:
        assert title in page  # the one-offs
    held = db.session.get(Thread, forum_threads["ora"][0])
    assert held.title not in page
    assert "3 threads" in page
    customer_client = app.test_client()
    login(make.user(make.customer_org("curious customer")), customer_client)
    assert customer_client.get("/patterns/unassigned").status_code == 404  # not even that the page exists


def test_the_list_opens_with_themes_only_when_a_theme_holds_several_patterns(app, client, login, make,
                                                                             forum_threads):
    _run(CountingEmbedder())
    login(make.employee(is_lead=True))
    pattern_ids = db.session.execute(db.select(Pattern.id).where(Pattern.status == PatternStatus.ACTIVE)).scalars().all()
    for pattern_id in pattern_ids:
        db.session.get(Pattern, pattern_id).theme = f"Theme {pattern_id}"
    db.session.commit()
    app.config["PATTERN_FIGURES_WAIT_SECONDS"] = 5
    page = client.get("/patterns").get_data(as_text=True)
    assert 'class="ptable-theme"' not in page  # one pattern a theme: a heading would repeat the row
    db.session.get(Pattern, pattern_ids[0]).theme = db.session.get(Pattern, pattern_ids[1]).theme = "Sign-in"
    db.session.commit()
    page = client.get("/patterns").get_data(as_text=True)
    assert '<h2 class="ptable-theme">Sign-in <span' in page
