"""Playbooks: promoting a pattern, editing with revisions, visibility twins, evidence, "worked for us too"."""
from __future__ import annotations

import re
from html import unescape

import pytest

from forum import permissions
from forum.extensions import db
from forum.models import (
    Confirmation,
    Hosting,
    MembershipSource,
    Pattern,
    PatternMember,
    Playbook,
    PlaybookConfirmation,
    PlaybookRevision,
    Visibility,
)
from forum.services.patterns import playbooks as service
from tests.forum.board.test_pages import Browser
from tests.forum.vectors.test_similar import resolve


def count(model) -> int:
    return db.session.execute(db.select(db.func.count(model.id))).scalar_one()


@pytest.fixture()
def world(make):
    """A pattern of four threads at three customers: two resolved (one more confirmed), one internal, one filed out."""
    org_a, org_b, org_c = make.customer_org("Acme"), make.customer_org("Borealis"), make.customer_org("Cygnus")
    partner = make.partner_org("Pathfinders")
    people = {"customer_a": make.user(org_a), "customer_b": make.user(org_b), "partner": make.user(partner),
              "employee": make.employee(), "lead": make.employee(is_lead=True)}
    staff = people["employee"]
    v42 = make.product_version("Ledger", "4.2")
    v43 = make.product_version("Ledger", "4.3")
    deps = {
        "a": make.deployment(org_a, product_version=v42, hosting=Hosting.CLOUD, database="PostgreSQL 15"),
        "b": make.deployment(org_b, product_version=v43, database="Oracle 19c", topology="HA pair"),
        "b2": make.deployment(org_b, product_version=v43, name="Borealis test"),
        "c": make.deployment(org_c, product_version=v42),
    }
    space = make.space("Installs")
    threads = {
        "a": make.thread(make.user(org_a), space=space, title="Pool exhausted at Acme",
                         deployment_snapshot=deps["a"].snapshot()),
        "b": make.thread(make.user(org_b), space=space, title="Pool exhausted at Borealis",
                         deployment_snapshot=deps["b"].snapshot()),
        "internal": make.thread(staff, Visibility.INTERNAL, space=space, title="Pool escalation CANARYEVIDENCE4",
                                deployment_snapshot=deps["c"].snapshot()),
        "excluded": make.thread(make.user(org_c), space=space, title="Unrelated disk alert"),
    }
    answers = {
        "a": resolve(make, threads["a"], staff, body="Raise **pool_size** to 200."),
        "b": resolve(make, threads["b"], staff, body="Set the pool timeout to 30 s."),
        "internal": resolve(make, threads["internal"], staff, body="Internal notes."),
    }
    db.session.add_all([Confirmation(reply_id=answers["b"].id, user_id=people["customer_a"].id,
                                     deployment_id=deps["a"].id),
                        Confirmation(reply_id=answers["b"].id, user_id=people["customer_a"].id,
                                     deployment_id=deps["c"].id)])
    pattern = Pattern(name="Connection pool exhausted", keywords=["pool", "exhausted"], signatures=["POOL-503"])
    db.session.add(pattern)
    db.session.flush()
    for key, thread in threads.items():
        source = MembershipSource.EXCLUDED if key == "excluded" else MembershipSource.MINED
        db.session.add(PatternMember(pattern_id=pattern.id, thread_id=thread.id, source=source))
    db.session.commit()
    return {"people": people, "threads": threads, "answers": answers, "pattern": pattern, "deps": deps}


def form_fields(html: str) -> dict:
    """Text inputs, textareas, selected options and checked boxes of a rendered form."""
    fields = {name: unescape(value)
              for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html)}
    fields.update((name, unescape(value)) for name, value in
                  re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>\r?\n?(.*?)</textarea>', html, re.S))
    fields["evidence"] = [int(v) for v in re.findall(r'<input checked[^>]*name="evidence"[^>]*value="(\d+)"', html)
                          + re.findall(r'<input[^>]*name="evidence"[^>]*value="(\d+)"[^>]*checked', html)]
    return fields


def publish(app, world, **overrides):
    browser = Browser(app, world["people"]["lead"])
    html = browser.html(f"/playbooks/new?pattern={world['pattern'].id}")
    fields = form_fields(html)
    data = {key: fields.get(key, "") for key in ("title", "problem", "products", "versions", "hosting",
                                                  "databases", "topologies", "steps")}
    data.update(visibility="public", evidence=[str(i) for i in fields["evidence"]], extra_threads="")
    data.update(overrides)
    response = browser.post(f"/playbooks/new?pattern={world['pattern'].id}", **data)
    return browser, response


def test_promoting_a_pattern_prefills_the_draft(app, world):
    html = Browser(app, world["people"]["lead"]).html(f"/playbooks/new?pattern={world['pattern'].id}")
    fields = form_fields(html)
    assert fields["title"] == "Connection pool exhausted"
    assert "POOL-503" in fields["problem"] and "3 threads from 3 organisations" in fields["problem"]
    assert fields["products"] == "Ledger"
    assert set(fields["versions"].split(", ")) == {"Ledger 4.2", "Ledger 4.3"}
    assert set(fields["databases"].split(", ")) == {"PostgreSQL 15", "Oracle 19c"}
    assert "cloud" in fields["hosting"] and "HA pair" in fields["topologies"]
    threads = world["threads"]
    # Evidence: member threads with accepted answers, the most confirmed answer first; filed-out ones absent.
    assert fields["evidence"][0] == threads["b"].id
    assert set(fields["evidence"]) == {threads["a"].id, threads["b"].id, threads["internal"].id}
    assert "Unrelated disk alert" not in html
    assert fields["steps"].startswith("Set the pool timeout")  # the best-confirmed answer as a start


def test_a_promoted_draft_holds_no_keyword_list_nor_pleasantries(app, world):
    answer = world["answers"]["b"]
    answer.body_md = ("Hi Ann, set the pool timeout to 30 s:\n\n```ini\n[pool]\ntimeout = 30\nThanks\n```\n\n"
                      "Then restart the workers.\n\nLet us know if that works.\n\nCheers,\nSam")
    db.session.commit()
    fields = form_fields(Browser(app, world["people"]["lead"]).html(f"/playbooks/new?pattern={world['pattern'].id}"))
    # The problem: what the pattern is and where it was seen, not the miner's keyword list.
    assert "Keywords" not in fields["problem"] and "POOL-503" in fields["problem"]
    # The steps: the fix itself, without the greeting and the sign-offs (a line inside the code block stays).
    assert fields["steps"] == ("Set the pool timeout to 30 s:\n\n```ini\n[pool]\ntimeout = 30\nThanks\n```\n\n"
                               "Then restart the workers.")


@pytest.mark.parametrize("text, steps", [
    ("Raise pool_size to 200.\n\nHope that helps.", "Raise pool_size to 200."),
    ("Raise pool_size to 200.\n\nShout if it doesn't.", "Raise pool_size to 200."),
    ("Raise pool_size to 200.\n\nPost back how it goes.", "Raise pool_size to 200."),
    ("Raise pool_size to 200. Let me know if that works!", "Raise pool_size to 200."),
    ("Hello Rowan, raise pool_size to 200.", "Raise pool_size to 200."),
    ("Thanks to the new driver, raising pool_size to 200 is enough.",
     "Thanks to the new driver, raising pool_size to 200 is enough."),
    ("Let us know the version first.\n\nThen raise pool_size.", "Let us know the version first.\n\nThen raise pool_size."),
])
def test_steps_from_an_answer_drop_greetings_and_sign_offs(text, steps):
    assert service.steps_from_answer(text) == steps


def test_lead_publishes_a_playbook_with_evidence_and_a_first_revision(app, world):
    _, response = publish(app, world, steps="1. Raise the pool\n\n<script>alert(1)</script>",
                          extra_threads=f"/t/{world['threads']['excluded'].id}")
    assert response.status_code == 302
    playbook = db.session.execute(db.select(Playbook)).scalar_one()
    assert playbook.pattern_id == world["pattern"].id and playbook.visibility is Visibility.PUBLIC
    assert "<script>" not in playbook.steps_html and "<li>" in playbook.steps_html
    assert playbook.applies_to["products"] == ["Ledger"]
    evidence = {e.thread_id: e.reply_id for e in playbook.evidence}
    threads, answers = world["threads"], world["answers"]
    assert evidence[threads["b"].id] == answers["b"].id and evidence[threads["a"].id] == answers["a"].id
    assert evidence[threads["excluded"].id] is None  # linked by hand, no accepted answer
    assert count(PlaybookRevision) == 1


@pytest.mark.parametrize("role", ["customer_a", "partner", "employee"])
def test_only_leads_write_playbooks(app, world, role):
    browser = Browser(app, world["people"][role])
    assert browser.get(f"/playbooks/new?pattern={world['pattern'].id}").status_code == 403
    assert browser.post("/playbooks/new", title="x", steps="y", visibility="public").status_code == 403
    playbook = _playbook(world)
    assert browser.get(f"/playbooks/{playbook.id}/edit").status_code == 403
    assert count(Playbook) == 1


def test_bad_input_is_a_form_error(app, world):
    browser = Browser(app, world["lead"] if "lead" in world else world["people"]["lead"])
    assert browser.get("/playbooks/new?pattern=999999").status_code == 404
    for data in ({"title": "", "steps": "x"}, {"title": "t", "steps": ""}, {"title": "t", "steps": "s",
                                                                             "visibility": "org_private"},
                 {"title": "t", "steps": "s", "extra_threads": "99999"}, {"title": "x" * 300, "steps": "s"}):
        response = browser.post("/playbooks/new", **{"visibility": "public", **data})
        assert response.status_code == 400, data
    assert count(Playbook) == 0


def _playbook(world, visibility=Visibility.PUBLIC, title="Fix the pool") -> Playbook:
    data = service.PlaybookInput(title=title, problem_md="Pool", steps_md="Raise it", visibility=visibility,
                                 applies_to={"versions": ["Ledger 4.2"]},
                                 evidence_ids=[t.id for t in world["threads"].values()])
    return service.create_playbook(world["people"]["lead"], data, world["pattern"])


def test_edit_makes_revisions_only_when_the_text_changes(app, world):
    playbook = _playbook(world)
    browser = Browser(app, world["people"]["lead"])
    html = browser.html(f"/playbooks/{playbook.id}/edit")
    fields = form_fields(html)
    base = {k: fields.get(k, "") for k in ("title", "problem", "products", "versions", "hosting", "databases",
                                            "topologies", "steps")}
    base.update(visibility="public", evidence=[str(i) for i in fields["evidence"]])
    assert browser.post(f"/playbooks/{playbook.id}/edit", **base).status_code == 302
    assert count(PlaybookRevision) == 1
    edited = dict(base, steps="1. Raise the pool\n2. Restart", evidence=[str(world["threads"]["a"].id)])
    assert browser.post(f"/playbooks/{playbook.id}/edit", **edited).status_code == 302
    db.session.refresh(playbook)
    assert count(PlaybookRevision) == 2 and "<ol>" in playbook.steps_html
    assert [e.thread_id for e in playbook.evidence] == [world["threads"]["a"].id]
    page = browser.html(f"/playbooks/{playbook.id}/revisions")
    assert "Version 2 (current)" in page and "Version 1" in page and "Raise it" in page


def test_visibility_twins_agree(app, world, make):
    public, internal = _playbook(world), _playbook(world, Visibility.INTERNAL, "Internal CANARYPB")
    users = list(world["people"].values()) + [make.employee(is_admin=True), None]
    for public_read in (False, True):
        app.config["PUBLIC_READ"] = public_read
        for user in users:
            listed = set(db.session.execute(
                db.select(Playbook.id).where(permissions.visible_playbooks(user))).scalars())
            for playbook in (public, internal):
                assert (playbook.id in listed) == permissions.can_view_playbook(user, playbook), (user, public_read)
    app.config["PUBLIC_READ"] = False
    assert permissions.can_view_playbook(world["people"]["customer_a"], public)
    assert not permissions.can_view_playbook(world["people"]["customer_a"], internal)
    assert permissions.can_edit_playbook(world["people"]["lead"], internal)
    assert not permissions.can_edit_playbook(world["people"]["employee"], public)


def test_pages_show_only_what_the_viewer_may_see(app, world):
    public, internal = _playbook(world), _playbook(world, Visibility.INTERNAL, "Internal CANARYPB")
    customer = Browser(app, world["people"]["customer_a"])
    listing = customer.html("/playbooks/")
    assert "Fix the pool" in listing and "CANARYPB" not in listing and "Deflection rate" not in listing
    assert customer.get(f"/playbooks/{internal.id}").status_code == 404
    assert customer.get(f"/playbooks/{internal.id}/revisions").status_code == 404
    assert customer.get("/playbooks/999999").status_code == 404
    page = customer.html(f"/playbooks/{public.id}")
    threads = world["threads"]
    assert threads["a"].title in page and threads["b"].title in page
    assert "CANARYEVIDENCE4" not in page and f"/t/{threads['internal'].id}" not in page
    lead_page = Browser(app, world["people"]["lead"]).html(f"/playbooks/{public.id}")
    assert "CANARYEVIDENCE4" in lead_page
    assert "Deflection rate" in Browser(app, world["people"]["lead"]).html("/playbooks/")
    app.config["PUBLIC_READ"] = False
    assert app.test_client().get(f"/playbooks/{public.id}").status_code == 302


def test_worked_for_us_too_counts_each_deployment_once(app, world):
    playbook = _playbook(world)
    deps = world["deps"]
    customer_b = Browser(app, world["people"]["customer_b"])
    page = customer_b.html(f"/playbooks/{playbook.id}")
    assert "Not yet confirmed at a deployment" in page and "It worked for us" in page  # no green zero
    assert customer_b.post(f"/playbooks/{playbook.id}/confirm", deployment=str(deps["b"].id)).status_code == 302
    customer_b.post(f"/playbooks/{playbook.id}/confirm", deployment=str(deps["b"].id))  # again: refused
    customer_b.post(f"/playbooks/{playbook.id}/confirm", deployment=str(deps["a"].id))  # not theirs: refused
    assert count(PlaybookConfirmation) == 1
    customer_b.post(f"/playbooks/{playbook.id}/confirm", deployment=str(deps["b2"].id), note="Test system too")
    assert count(PlaybookConfirmation) == 2
    assert "Worked at 2 deployments" in customer_b.html(f"/playbooks/{playbook.id}")
    assert "Worked at 2 deployments" in customer_b.html("/playbooks/")
    assert "Every deployment of your organisation" in customer_b.html(f"/playbooks/{playbook.id}")
    partner = Browser(app, world["people"]["partner"])
    assert partner.post(f"/playbooks/{playbook.id}/confirm", deployment=str(deps["b"].id)).status_code == 403
    # The database refuses a duplicate too (a race between two tabs).
    with pytest.raises(service.ValidationFailed):
        service.confirm_playbook(world["people"]["customer_b"], playbook, deps["b"])
    assert count(PlaybookConfirmation) == 2


def test_member_threads_link_to_their_playbook(app, world, make):
    threads = world["threads"]
    internal = _playbook(world, Visibility.INTERNAL, "Internal CANARYPB")
    customer, lead = world["people"]["customer_a"], world["people"]["lead"]
    assert service.playbook_for_thread(customer, threads["a"]) is None  # only an internal one so far
    assert service.playbook_for_thread(lead, threads["a"]).id == internal.id
    public = _playbook(world)
    assert service.playbook_for_thread(customer, threads["a"]).id == public.id
    assert service.playbook_for_thread(customer, threads["excluded"]).id == public.id  # linked as evidence
    assert service.playbook_for_pattern(customer, world["pattern"]).id == public.id
    assert service.playbook_for_pattern(lead, world["pattern"]).id == public.id  # the newest
    loner = make.thread(customer, title="Nothing to do with it")
    assert service.playbook_for_thread(lead, loner) is None
    html = Browser(app, customer).html(f"/t/{threads['a'].id}")
    assert "There is a playbook for this problem" in html and f"/playbooks/{public.id}" in html
    assert "CANARYPB" not in html


def test_list_is_paginated(app, world):
    app.config["PAGE_SIZE"] = 2
    for i in range(5):
        db.session.add(Playbook(title=f"Playbook number {i}", author_id=world["people"]["lead"].id))
    db.session.commit()
    browser = Browser(app, world["people"]["customer_a"])
    first, last = browser.html("/playbooks/"), browser.html("/playbooks/?page=3")
    assert first.count('class="title"') == 2 and last.count('class="title"') == 1
    assert "Page 1 of 3" in first
    assert browser.get("/playbooks/?page=abc").status_code == 200
