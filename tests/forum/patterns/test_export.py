"""`flask patterns export`: every active pattern with reach and members, as JSON or a table."""
from __future__ import annotations

import json

from forum.extensions import db
from forum.models import MembershipSource, Pattern, PatternMember, PatternStatus


def run_export(app, *args):
    result = app.test_cli_runner().invoke(args=["patterns", "export", *args])
    assert result.exit_code == 0, result.output
    return result


def test_export_with_no_patterns_is_valid_json(app):
    assert json.loads(run_export(app, "--json").stdout) == {"patterns": []}
    assert "No active patterns." in run_export(app).stdout


def make_patterns(make) -> dict:
    acme, globex, partner = make.customer_org("Acme"), make.customer_org("Globex"), make.partner_org("Initrode")
    vendor = make.vendor_org()
    acme_user, globex_user, partner_user = make.user(acme), make.user(globex), make.user(partner)
    employee = make.user(vendor)
    acme_dep, globex_dep = make.deployment(acme), make.deployment(globex)
    t1 = make.thread(acme_user, external_id="ext-1", deployment_id=acme_dep.id)
    t2 = make.thread(globex_user, external_id="ext-2", deployment_id=globex_dep.id)
    t3 = make.thread(acme_user, deployment_id=acme_dep.id)  # same customer, same deployment: no extra reach
    t4 = make.thread(partner_user, external_id="ext-4")  # a partner: a thread, but not a customer
    t5 = make.thread(employee, external_id="ext-5")  # filed out of the pattern: never a member
    t6 = make.thread(globex_user, external_id="ext-6",
                     deployment_snapshot={"deployment_id": 987654, "product": "Ledger"})
    main = Pattern(name="Schema upgrade lock timeout", keywords=["lock", "timeout"],
                   signatures=["ORA-00054"], description="Installer waits on a lock.")
    empty = Pattern(name="Nothing yet", keywords=[], signatures=[])
    dismissed = Pattern(name="Dismissed", status=PatternStatus.DISMISSED, keywords=["x"])
    merged = Pattern(name="Merged away", status=PatternStatus.MERGED, keywords=["y"])
    db.session.add_all([main, empty, dismissed, merged])
    db.session.flush()
    db.session.add_all([
        PatternMember(pattern_id=main.id, thread_id=t3.id, source=MembershipSource.ASSIGNED),
        PatternMember(pattern_id=main.id, thread_id=t1.id, source=MembershipSource.MINED),
        PatternMember(pattern_id=main.id, thread_id=t2.id, source=MembershipSource.FILED),
        PatternMember(pattern_id=main.id, thread_id=t4.id, source=MembershipSource.MINED),
        PatternMember(pattern_id=main.id, thread_id=t5.id, source=MembershipSource.EXCLUDED),
        PatternMember(pattern_id=main.id, thread_id=t6.id, source=MembershipSource.MINED),
        PatternMember(pattern_id=dismissed.id, thread_id=t1.id, source=MembershipSource.MINED),
        PatternMember(pattern_id=merged.id, thread_id=t2.id, source=MembershipSource.MINED),
    ])
    db.session.commit()
    return {"main": main, "empty": empty, "threads": [t1, t2, t3, t4, t5, t6]}


def test_export_json_shape_and_content(app, make):
    made = make_patterns(make)
    t1, t2, t3, t4, _, t6 = made["threads"]
    data = json.loads(run_export(app, "--json").stdout)
    assert [p["id"] for p in data["patterns"]] == [made["main"].id, made["empty"].id]
    main, empty = data["patterns"]
    assert main == {
        "id": made["main"].id, "name": "Schema upgrade lock timeout", "description": "Installer waits on a lock.",
        "keywords": ["lock", "timeout"], "signatures": ["ORA-00054"],
        # Acme and Globex (the partner firm is no customer); Acme's deployment once, Globex's, and the one
        # known only from a thread's snapshot.
        "reach": {"threads": 5, "customer_organisations": 2, "deployments": 3},
        "members": [{"id": t.id, "external_id": t.external_id, "source": source} for t, source in
                    sorted([(t1, "mined"), (t2, "filed"), (t3, "assigned"), (t4, "mined"), (t6, "mined")],
                           key=lambda pair: pair[0].id)],
    }
    assert main["members"][2]["external_id"] is None
    assert empty["reach"] == {"threads": 0, "customer_organisations": 0, "deployments": 0}
    assert empty["members"] == []


def test_export_is_deterministic_and_has_a_table(app, make):
    made = make_patterns(make)
    first, second = run_export(app, "--json").stdout, run_export(app, "--json").stdout
    assert first == second
    table = run_export(app).stdout.splitlines()
    assert table[0].split() == ["id", "threads", "customers", "deployments", "name"]
    assert table[1].split()[:4] == [str(made["main"].id), "5", "2", "3"]
    assert "Schema upgrade lock timeout" in table[1]
    assert len(table) == 3
