"""The /search page: escaped highlights, filters in the form and the pager, restricted canaries never shown,
and a fuzz of any input (text, query syntax, filters) answering a well-formed page on both databases.
"""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum.models import Visibility

NASTY = [
    '"', '"unbalanced', "AND", "OR", "NOT", "a AND b", "a OR NOT b", "NEAR(a b, 2)", "NEAR", "*", "a*", "^",
    "^title", "foo:bar", "title:kerberos", "OPS-306", "-ops", "--", "'", "''", "';--", "\\", "%", "_", "%_%",
    "()", "(a", "a)", "{}", "[]", "<->", "&", "|", "!", ":*", "a & b | !c", "🙂", "🙂🙂 ldap", "\x00", "a\x00b",
    "\u200b", "\ufeff", "\u202e", "é", "e\u0301", "ß", "İ", "日本語", "العربية", " ", "\t\n", "a" * 10_000,
    "ldap " * 2_000, "x" * 300 + " y", "\ud7ff", "\U0010fffd", "NULL", "null", "0", "-1", "1e309",
]


def _assert_page(response, canaries=("CANARY",)) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Search</h1>" in html and html.rstrip().endswith("</html>")
    for canary in canaries:
        assert canary not in html
    return html


def _world(make):
    customer = make.user(make.customer_org())
    employee = make.employee()
    other = make.user(make.customer_org())
    make.thread(customer, title="Installer <b>hangs</b> on RHEL", body="The <script>alert(1)</script> installer hangs")
    make.thread(employee, visibility=Visibility.INTERNAL, title="Installer CANARYINTERNAL", body="installer hangs")
    make.thread(other, visibility=Visibility.ORG_PRIVATE, title="Installer CANARYPRIVATE", body="installer hangs")
    return customer, employee


def test_highlights_are_escaped(client, make, login):
    customer, _employee = _world(make)
    login(customer)
    html = _assert_page(client.get("/search", query_string={"q": "installer hangs"}))
    assert "Installer &lt;b&gt;hangs&lt;/b&gt; on RHEL" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>installer</mark>" in html
    assert "<script>alert" not in html and "<b>hangs" not in html
    assert "1 thread" in html


def test_employee_sees_restricted_results_and_org_filter(client, make, login):
    _customer, employee = _world(make)
    login(employee)
    html = _assert_page(client.get("/search", query_string={"q": "installer"}), canaries=())
    assert "CANARYINTERNAL" in html and "CANARYPRIVATE" in html and "3 threads" in html
    assert 'name="organisation"' in html


def test_filters_stay_in_form_and_pager(client, make, login, app):
    customer, _employee = _world(make)
    for n in range(25):
        make.thread(customer, title=f"Installer note {n}", status="resolved")
    app.config["PAGE_SIZE"] = 10
    login(customer)
    html = _assert_page(client.get("/search", query_string={"q": "installer", "status": "resolved"}))
    assert '<option value="resolved" selected>' in html
    assert re.search(r'href="[^"]*page=2[^"]*status=resolved|href="[^"]*status=resolved[^"]*page=2', html)
    assert 'name="organisation"' not in html  # customers get no organisation filter


queries = st.one_of(st.text(), st.sampled_from(NASTY), st.lists(st.sampled_from(NASTY + ["ldap", "installer"]),
                                                                 max_size=5).map(" ".join))
filters = st.fixed_dictionaries({}, optional={
    name: st.one_of(st.text(max_size=30), st.sampled_from(NASTY[:20] + ["resolved", "2026-01-01", "9999-12-31", "0001-01-01", "9.1"]))
    for name in ("space", "product", "version", "status", "tag", "organisation", "since", "until", "page")
})

@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(q=queries, extra=filters)
def test_any_input_gives_a_well_formed_page(client, make, login, q, extra):
    if not getattr(client, "_search_world", None):
        customer, _employee = _world(make)
        login(customer)
        client._search_world = True
    _assert_page(client.get("/search", query_string={"q": q, **extra}))


def test_nasty_strings_each_give_a_page(client, make, login):
    customer, _employee = _world(make)
    login(customer)
    for raw in NASTY:
        _assert_page(client.get("/search", query_string={"q": raw}))
        _assert_page(client.get("/search", query_string={"q": "installer", "tag": raw, "since": raw,
                                                          "space": raw, "organisation": raw}))
    for since, until in (("0001-01-01", "9999-12-31"), ("9999-12-31", "0001-01-01"), ("2026-02-30", "2026-1-1")):
        _assert_page(client.get("/search", query_string={"q": "installer", "since": since, "until": until}))
