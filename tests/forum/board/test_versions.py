"""Answers that go stale with versions: an accepted answer is confirmed on the version of the asker's deployment
snapshot and on the versions of the deployments that said "worked for us too" (frozen when they said it); a
reader running another version is told; a new version in the catalog gives leads a review list of the most-used
playbooks not yet confirmed on it."""
from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import Confirmation, Playbook, PlaybookConfirmation, PlaybookEvidence, Visibility
from forum.services.board import threads
from forum.services.patterns import playbooks


def _answered(make, asker, version, title="Licence lost after upgrade"):
    deployment = make.deployment(asker.organisation, product_version=version)
    thread = make.thread(asker, title=title, deployment_id=deployment.id, deployment_snapshot=deployment.snapshot())
    reply = make.reply(thread, make.employee(), body="Re-issue the licence.")
    threads.accept_reply(asker, reply)
    return thread


def test_confirmations_freeze_the_version_they_were_made_on(app, make):
    v1, v2 = make.product_version("Ledger", "2025.2"), make.product_version("Ledger", "2026.1")
    asker, other = make.user(), make.user()
    thread = _answered(make, asker, v1)
    deployment = make.deployment(other.organisation, product_version=v1)
    threads.confirm(other, thread, deployment)
    deployment.product_version_id = v2.id  # upgraded later: the confirmation stays on 2025.2
    db.session.commit()
    row = db.session.execute(select(Confirmation)).scalar_one()
    assert row.product_version_id == v1.id


def test_a_reader_on_another_version_is_told(app, client, make, login):
    v1, v2 = make.product_version("Ledger", "2025.2"), make.product_version("Ledger", "2026.1")
    v1.position, v2.position = 1, 2
    db.session.commit()
    asker = make.user()
    thread = _answered(make, asker, v1)
    reader = make.user()
    make.deployment(reader.organisation, product_version=v2, name="Reader production")
    login(reader)
    page = client.get(f"/t/{thread.id}").get_data(as_text=True)
    assert "Confirmed on Ledger 2025.2; not yet on your 2026.1" in page
    # Once a 2026.1 deployment confirms it, the notice goes away for that reader.
    third = make.user()
    threads.confirm(third, thread, make.deployment(third.organisation, product_version=v2))
    page = client.get(f"/t/{thread.id}").get_data(as_text=True)
    assert "not yet on your" not in page and "Ledger 2025.2, 2026.1" in page
    # A reader on the confirmed version sees no warning either.
    same = make.user()
    make.deployment(same.organisation, product_version=v1)
    other_client = app.test_client()
    login(same, other_client)
    assert "not yet on your" not in other_client.get(f"/t/{thread.id}").get_data(as_text=True)


def test_playbook_pages_say_it_too_and_leads_get_a_review_list(app, client, make, login):
    v1, v2 = make.product_version("Ledger", "2025.2"), make.product_version("Ledger", "2026.1")
    v1.position, v2.position = 1, 2
    db.session.commit()
    lead = make.employee(is_lead=True)
    customers = [make.user() for _ in range(3)]

    def playbook(title, confirmers, version):
        row = Playbook(title=title, author_id=lead.id, visibility=Visibility.PUBLIC)
        db.session.add(row)
        db.session.commit()
        for user in confirmers:
            playbooks.confirm_playbook(user, row, make.deployment(user.organisation, product_version=version))
        return row

    busy = playbook("Re-issue the licence", customers, v1)
    quiet = playbook("Rotate the mail certificate", customers[:2], v1)
    done = playbook("Already on the new one", customers[:2], v2)
    evidence_only = playbook("From an answered thread", [], v1)
    db.session.add(PlaybookEvidence(playbook_id=evidence_only.id, thread_id=_answered(make, customers[0], v1).id))
    db.session.commit()
    assert db.session.execute(select(PlaybookConfirmation.product_version_id)).scalars().all().count(v1.id) == 5

    reader = make.user()
    make.deployment(reader.organisation, product_version=v2)
    login(reader)
    assert "Confirmed on Ledger 2025.2; not yet on your 2026.1" in client.get(
        f"/playbooks/{busy.id}").get_data(as_text=True)
    assert client.get(f"/playbooks/review/{v2.id}").status_code == 403

    lead_client = app.test_client()
    login(lead, lead_client)
    page = lead_client.get(f"/playbooks/review/{v2.id}").get_data(as_text=True)
    assert "Ledger 2026.1" in page and "Already on the new one" not in page
    # Most used first: three confirmations, then two, then one confirmed thread as evidence.
    order = [page.index(t) for t in ("Re-issue the licence", "Rotate the mail certificate", "From an answered thread")]
    assert order == sorted(order)
    # The playbooks page points leads at the newest version's review list.
    assert f"/playbooks/review/{v2.id}" in lead_client.get("/playbooks/").get_data(as_text=True)
    assert quiet.title in page and done.title not in page


def test_the_answer_panel_reads_confirmations_and_deployments_once_each(app, client, make, login):
    """The count, the "worked for us too" choices and the version notes come from one read of the answer's
    confirmations and one of the reader's deployments (they were four statements over the same rows)."""
    from tests.forum.board.test_queries import counting_queries

    v1, v2 = make.product_version("Ledger", "2025.2"), make.product_version("Ledger", "2026.1")
    v1.position, v2.position = 1, 2
    db.session.commit()
    thread = _answered(make, make.user(), v1)
    confirmer = make.user()
    threads.confirm(confirmer, thread, make.deployment(confirmer.organisation, product_version=v1))
    reader = make.user()
    make.deployment(reader.organisation, product_version=v2, name="Reader production")
    make.deployment(reader.organisation, product_version=v1, name="Reader staging")
    login(reader)
    client.get(f"/t/{thread.id}")
    with counting_queries() as statements:
        page = client.get(f"/t/{thread.id}").get_data(as_text=True)
    assert "Confirmed at 1 deployment" in page and "Ledger 2025.2" in page
    assert "Confirmed on Ledger 2025.2; not yet on your 2026.1" in page
    assert "Reader production" in page and "Reader staging" in page  # both may still confirm
    reading = [s for s in map(" ".join, map(str.split, statements))
               if any(f"{word} {table} " in s + " " for word in ("FROM", "JOIN") for table in ("confirmation", "deployment"))]
    assert len(reading) == 2, reading
