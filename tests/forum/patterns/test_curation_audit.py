"""Pattern curation and playbook writing leave audit entries (who, what, when, before/after) like moderation does."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditEntry, MembershipSource, PatternStatus, Visibility
from forum.services.patterns import curation
from forum.services.patterns import playbooks as playbook_service
from forum.services.patterns.playbooks import PlaybookInput
from tests.forum.board.test_pages import Browser
from tests.forum.patterns import pattern_factories as pf


@pytest.fixture()
def setup(make):
    customer = make.user(make.customer_org())
    threads = [make.thread(customer, title=f"Problem thread {i}") for i in range(5)]
    a = pf.pattern("Cert expiry", threads[:2])
    b = pf.pattern("Proxy errors", threads[2:4])
    return {"a": a, "b": b, "threads": threads, "lead": make.employee(is_lead=True)}


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)).scalars())


def only_entry(action: str) -> AuditEntry:
    found = entries(action)
    assert len(found) == 1, (action, found)
    return found[0]


def test_rename_describe_dismiss_restore_are_audited(setup):
    a, lead = setup["a"], setup["lead"]
    curation.rename(lead, a, "Certificate expiry")
    entry = only_entry("pattern.rename")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (lead.id, "pattern", a.id)
    assert entry.before == {"name": "Cert expiry", "name_curated": False}
    assert entry.after == {"name": "Certificate expiry", "name_curated": True}
    assert entry.created_at is not None

    curation.describe(lead, a, "TLS certificates expire silently.")
    assert only_entry("pattern.describe").before == {"description": ""}
    assert only_entry("pattern.describe").after == {"description": "TLS certificates expire silently."}

    curation.dismiss(lead, a)
    assert (only_entry("pattern.dismiss").before, only_entry("pattern.dismiss").after) == (
        {"status": "active"}, {"status": "dismissed"})
    curation.restore(lead, a)
    assert (only_entry("pattern.restore").before, only_entry("pattern.restore").after) == (
        {"status": "dismissed"}, {"status": "active"})


def test_refused_actions_leave_no_entry(setup):
    with pytest.raises(curation.CurationError):
        curation.rename(setup["lead"], setup["a"], "   ")
    with pytest.raises(curation.CurationError):
        curation.restore(setup["lead"], setup["a"])
    assert db.session.execute(select(func.count(AuditEntry.id))).scalar_one() == 0


def test_merge_is_audited_with_what_moved(setup, make):
    a, b, lead = setup["a"], setup["b"], setup["lead"]
    playbook = playbook_service.create_playbook(lead, PlaybookInput(title="Renew the certificate"), pattern=a)
    curation.merge(lead, a, b)
    entry = only_entry("pattern.merge")
    assert (entry.actor_id, entry.target_id) == (lead.id, a.id)
    assert entry.before == {"status": "active", "merged_into_id": None}
    assert entry.after == {"status": "merged", "merged_into_id": b.id, "threads_moved": 2, "playbooks_moved": 1}
    assert "Cert expiry" in entry.summary and "Proxy errors" in entry.summary
    db.session.refresh(playbook)
    assert playbook.pattern_id == b.id


def test_filing_a_thread_in_and_out_is_audited_with_its_memberships(setup):
    a, b, lead, threads = setup["a"], setup["b"], setup["lead"], setup["threads"]
    moving = threads[0]  # mined into a
    curation.file_thread(lead, b, moving)
    entry = only_entry("pattern.file_thread")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (lead.id, "pattern", b.id)
    assert entry.before == {"thread_id": moving.id, "memberships": {str(a.id): MembershipSource.MINED.value}}
    assert entry.after == {"thread_id": moving.id, "memberships": {str(b.id): MembershipSource.FILED.value}}
    assert f"thread {moving.id}" in entry.summary

    curation.exclude_thread(lead, b, moving)
    entry = only_entry("pattern.exclude_thread")
    assert entry.before == {"thread_id": moving.id, "memberships": {str(b.id): "filed"}}
    assert entry.after == {"thread_id": moving.id, "memberships": {str(b.id): "excluded"}}


def test_playbook_create_edit_publish_are_audited(setup):
    lead, threads = setup["lead"], setup["threads"]
    data = PlaybookInput(title="Renew the certificate", problem_md="It expires.", steps_md="1. Renew",
                         applies_to={"products": ["Ledger"]}, visibility=Visibility.INTERNAL,
                         evidence_ids=[threads[0].id])
    playbook = playbook_service.create_playbook(lead, data, pattern=setup["a"])
    created = only_entry("playbook.create")
    assert (created.actor_id, created.target_type, created.target_id) == (lead.id, "playbook", playbook.id)
    assert created.before is None
    assert created.after["title"] == "Renew the certificate" and created.after["visibility"] == "internal"
    assert created.after["steps_md"] == "1. Renew" and created.after["evidence"] == [threads[0].id]
    assert "steps_html" not in created.after

    data.steps_md, data.evidence_ids = "1. Renew\n2. Restart", [threads[0].id, threads[1].id]
    playbook_service.update_playbook(lead, playbook, data)
    updated = only_entry("playbook.update")
    assert updated.before == {"steps_md": "1. Renew", "evidence": [threads[0].id]}
    assert updated.after == {"steps_md": "1. Renew\n2. Restart", "evidence": sorted([threads[0].id, threads[1].id])}

    data.visibility = Visibility.PUBLIC
    playbook_service.update_playbook(lead, playbook, data)
    published = only_entry("playbook.publish")
    assert (published.before, published.after) == ({"visibility": "internal"}, {"visibility": "public"})

    # Saving without a change is not an action worth a line in the log.
    playbook_service.update_playbook(lead, playbook, data)
    assert len(entries("playbook.update")) == 1 and len(entries("playbook.publish")) == 1

    data.visibility = Visibility.INTERNAL
    playbook_service.update_playbook(lead, playbook, data)
    unpublished = only_entry("playbook.unpublish")
    assert (unpublished.before, unpublished.after) == ({"visibility": "public"}, {"visibility": "internal"})


def test_curation_in_the_app_shows_in_the_admin_audit_log(app, setup, make):
    lead, a = setup["lead"], setup["a"]
    browser = Browser(app, lead)
    assert browser.post(f"/patterns/{a.id}/rename", name="Certificate expiry").status_code == 303
    assert browser.post(f"/patterns/{a.id}/dismiss").status_code == 303
    db.session.refresh(a)
    assert a.status is PatternStatus.DISMISSED
    assert only_entry("pattern.rename").actor_id == lead.id  # the signed-in lead, passed by the view

    page = Browser(app, make.employee(is_admin=True)).html("/admin/audit?target_type=pattern")
    assert "pattern.rename</code>" in page and "pattern.dismiss</code>" in page and lead.username in page
    assert "Certificate expiry" in page and "status: active → dismissed" in page
