"""Leads' curation of patterns: the services, the views and who may use them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import MembershipSource, Pattern, PatternMember, PatternStatus, Playbook
from forum.permissions import PermissionDenied
from forum.services.patterns import curation
from tests.factories import csrf_token_from
from tests.forum.patterns import pattern_factories as pf


@pytest.fixture()
def setup(make):
    customer = make.user(make.customer_org())
    threads = [make.thread(customer, title=f"Problem thread {i}") for i in range(5)]
    a = pf.pattern("Cert expiry", threads[:2])
    b = pf.pattern("Proxy errors", threads[2:4])
    lead, employee = make.employee(is_lead=True), make.employee()
    return {"a": a, "b": b, "threads": threads, "lead": lead, "employee": employee, "customer": customer}


def sources(pattern_id: int) -> dict[int, MembershipSource]:
    return dict(db.session.execute(select(PatternMember.thread_id, PatternMember.source)
                                   .where(PatternMember.pattern_id == pattern_id)).all())


def test_rename_describe_dismiss_restore(setup):
    a, lead = setup["a"], setup["lead"]
    curation.rename(lead, a, "  Certificate   expiry ")
    assert (a.name, a.name_curated) == ("Certificate expiry", True)
    curation.describe(lead, a, "TLS certificates expire silently.")
    assert a.description == "TLS certificates expire silently."
    with pytest.raises(curation.CurationError):
        curation.rename(lead, a, "   ")
    with pytest.raises(curation.CurationError):
        curation.rename(lead, a, "x" * 201)
    curation.dismiss(lead, a)
    assert a.status is PatternStatus.DISMISSED
    with pytest.raises(curation.CurationError):
        curation.dismiss(lead, a)
    curation.restore(lead, a)
    assert a.status is PatternStatus.ACTIVE


def test_only_leads_curate(setup):
    for user in (setup["employee"], setup["customer"], None):
        with pytest.raises(PermissionDenied):
            curation.rename(user, setup["a"], "New name")
        with pytest.raises(PermissionDenied):
            curation.merge(user, setup["a"], setup["b"])
    assert setup["a"].name == "Cert expiry"


def test_merge_moves_members_as_filed_and_respects_exclusions(setup, make):
    a, b, threads, lead = setup["a"], setup["b"], setup["threads"], setup["lead"]
    pf.member(b, threads[4], MembershipSource.EXCLUDED)
    pf.member(a, threads[4])
    playbook = Playbook(pattern_id=a.id, title="Renew the certificate", author_id=lead.id)
    db.session.add(playbook)
    db.session.commit()
    curation.merge(lead, a, b)
    assert (a.status, a.merged_into_id) == (PatternStatus.MERGED, b.id)
    assert sources(b.id) == {threads[0].id: MembershipSource.FILED, threads[1].id: MembershipSource.FILED,
                             threads[2].id: MembershipSource.MINED, threads[3].id: MembershipSource.MINED,
                             threads[4].id: MembershipSource.EXCLUDED}
    assert sources(a.id) == {}
    assert db.session.get(Playbook, playbook.id).pattern_id == b.id
    with pytest.raises(curation.CurationError):
        curation.merge(lead, b, b)
    with pytest.raises(curation.CurationError):
        curation.merge(lead, b, a)                  # a is merged now: not a target


def test_file_in_replaces_machine_memberships_and_file_out_excludes(setup):
    a, b, threads, lead = setup["a"], setup["b"], setup["threads"], setup["lead"]
    curation.file_thread(lead, b, threads[0])
    assert threads[0].id not in sources(a.id)
    assert sources(b.id)[threads[0].id] is MembershipSource.FILED
    curation.exclude_thread(lead, b, threads[2])
    assert sources(b.id)[threads[2].id] is MembershipSource.EXCLUDED
    # Filing it in again undoes the exclusion.
    curation.file_thread(lead, b, threads[2])
    assert sources(b.id)[threads[2].id] is MembershipSource.FILED


def _post(client, url: str, page_url: str, **data):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_views_for_a_lead(setup, client, login):
    a, b, threads = setup["a"], setup["b"], setup["threads"]
    login(setup["lead"])
    page = f"/patterns/{a.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Rename" in html and "Merge" in html and "File out" in html
    assert _post(client, f"{page}/rename", page, name="Certificates expire").status_code == 303
    assert db.session.get(Pattern, a.id).name == "Certificates expire"
    assert _post(client, f"{page}/rename", page, name="").status_code == 400
    assert _post(client, f"{page}/description", page, description="Why it happens.").status_code == 303
    assert _post(client, f"{page}/file", page, thread=f"https://forum.test/t/{threads[4].id}").status_code == 303
    assert sources(a.id)[threads[4].id] is MembershipSource.FILED
    missing = _post(client, f"{page}/file", page, thread="99999999")
    assert missing.status_code == 400 and "There is no thread with that number." in missing.get_data(as_text=True)
    assert _post(client, f"{page}/file", page, thread="not a thread").status_code == 400
    assert _post(client, f"{page}/exclude", page, thread_id=threads[0].id).status_code == 303
    assert sources(a.id)[threads[0].id] is MembershipSource.EXCLUDED
    assert "File back in" in client.get(page).get_data(as_text=True)
    assert _post(client, f"{page}/dismiss", page).status_code == 303
    assert db.session.get(Pattern, a.id).status is PatternStatus.DISMISSED
    assert "Certificates expire" not in client.get("/patterns/").get_data(as_text=True)
    assert _post(client, f"{page}/restore", page).status_code == 303
    assert _post(client, f"{page}/merge", page, target=str(b.id)).status_code == 303
    assert db.session.get(Pattern, a.id).status is PatternStatus.MERGED
    # The merged pattern's page leads to the one it went into.
    assert client.get(page).headers["Location"].endswith(f"/patterns/{b.id}")
    assert _post(client, f"/patterns/{b.id}/merge", f"/patterns/{b.id}", target=str(b.id)).status_code == 400


def test_views_refuse_non_leads(setup, app, client, login):
    a = setup["a"]
    page = f"/patterns/{a.id}"
    login(setup["employee"])
    for action, data in (("rename", {"name": "X"}), ("dismiss", {}), ("merge", {"target": setup["b"].id}),
                         ("file", {"thread": "1"}), ("exclude", {"thread_id": "1"}), ("description", {})):
        assert _post(client, f"{page}/{action}", page, **data).status_code == 403, action
    assert _post(client, "/patterns/mine", "/patterns/").status_code == 403
    other = app.test_client()
    login(setup["customer"], other)
    token = csrf_token_from(other.get("/ask").get_data(as_text=True))
    assert other.post(f"{page}/rename", data={"csrf_token": token, "name": "X"}).status_code == 404
    assert db.session.get(Pattern, a.id).name == "Cert expiry"
    # Without a CSRF token nothing happens either.
    lead_client = app.test_client()
    login(setup["lead"], lead_client)
    assert lead_client.post(f"{page}/dismiss", data={}).status_code == 400
    assert db.session.get(Pattern, a.id).status is PatternStatus.ACTIVE


def test_mine_now_starts_a_run(setup, client, login, monkeypatch):
    from forum.services.patterns import jobs as mining_jobs
    from forum.services.patterns.leases import RunAlreadyActive

    started = []
    monkeypatch.setattr(mining_jobs, "start_run", lambda user, trigger: started.append((user.id, trigger)) or 7)
    login(setup["lead"])
    response = _post(client, "/patterns/mine", "/patterns/")
    assert response.status_code == 303 and started == [(setup["lead"].id, "web")]
    assert "Mining run 7 started." in client.get("/patterns/").get_data(as_text=True)

    def busy(user, trigger):
        raise RunAlreadyActive("busy")

    monkeypatch.setattr(mining_jobs, "start_run", busy)
    _post(client, "/patterns/mine", "/patterns/")
    assert "already in progress" in client.get("/patterns/").get_data(as_text=True)
