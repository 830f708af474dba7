"""The demo generator without a database: deterministic, big enough, and varied where it must be."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from forum.demo import DEMO_LOGINS, DEMO_PASSWORD, PLANTED_PROBLEMS, problem_key_for
from forum.demo.generate import generate
from forum.passwords import password_problems
from forum.services.board.threads import normalise_tags
from tests.conftest import ROOT


def content_digest(content) -> str:
    """A fingerprint of everything a reader sees: ids, titles, bodies, replies, votes and dates."""
    h = hashlib.sha256()
    for t in content.threads:
        h.update(repr((t.external_id, t.title, t.body_md, t.author_email, t.created_at, t.status,
                       t.deployment_key, t.snapshot_version, t.accepted_index)).encode())
        for r in t.replies:
            h.update(repr((r.author_email, r.body_md, r.created_at, r.is_staff_note, r.votes)).encode())
    for d in content.deployments:
        h.update(repr(d).encode())
    for u in content.users:
        h.update(repr((u.email, u.display_name, u.org_slug)).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def content():
    return generate()


def test_generation_is_deterministic(content):
    assert content_digest(generate()) == content_digest(content)


def test_generation_does_not_depend_on_the_hash_seed(content):
    code = ("from forum.demo.generate import generate; from tests.forum.test_demo_content import content_digest; "
            "print(content_digest(generate()))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == content_digest(content)


def test_sizes_meet_the_spec(content):
    kinds = Counter(o.kind for o in content.orgs)
    assert kinds["vendor"] == 1 and kinds["customer"] >= 40 and kinds["partner"] >= 5
    assert 2 <= len(content.products) <= 3 and all(len(p.versions) >= 3 for p in content.products)
    per_org = Counter(d.org_slug for d in content.deployments)
    assert set(per_org) == {o.slug for o in content.orgs if o.kind == "customer"}
    assert max(per_org.values()) <= 3
    assert len(content.threads) >= 600
    assert len({t.external_id for t in content.threads}) == len(content.threads)
    staff = [u for u in content.users if u.org_slug == "larchmont-software"]
    assert any(u.is_lead for u in staff) and any(u.is_admin for u in staff) and any(u.is_moderator for u in staff)
    visibilities = Counter(t.visibility for t in content.threads)
    assert visibilities["internal"] >= 10 and visibilities["org_private"] >= 20
    statuses = Counter(t.status for t in content.threads)
    assert all(statuses[s] >= 20 for s in ("open", "answered", "resolved", "needs_staff"))
    assert sum(len(t.confirmations) for t in content.threads) >= 100


def test_content_fits_the_forms_limits(content):
    """Titles, tags and bodies are ones the ask form itself would accept."""
    for t in content.threads:
        assert 0 < len(t.title) <= 200 and len(t.body_md) <= 50_000
        assert normalise_tags(list(t.tags)) == list(t.tags)
        assert t.deployment_key is None or t.deployment_key[0] == t.org_slug
        assert all(r.created_at > t.created_at for r in t.replies)


def test_planted_problems_are_recorded_and_recur_across_many_organisations(content):
    assert 14 <= len(PLANTED_PROBLEMS) <= 16
    by_problem: dict[str, list] = {}
    for t in content.threads:
        assert problem_key_for(t.external_id) == t.problem_key
        if t.problem_key:
            by_problem.setdefault(t.problem_key, []).append(t)
    for planted in PLANTED_PROBLEMS:
        threads = by_problem[planted["key"]]
        assert len(threads) == planted["threads"] >= 12
        assert all(t.external_id.startswith(planted["external_id_prefix"]) for t in threads)
        assert len({t.org_slug for t in threads}) >= 10, planted["key"]
        assert sum(t.status == "resolved" for t in threads) >= len(threads) // 3
    one_offs = [t for t in content.threads if t.external_id.startswith("demo-x-")]
    assert len(one_offs) >= 200 and not any(t.problem_key for t in one_offs)
    assert len({t.title for t in one_offs}) == len(one_offs)


def test_planted_threads_are_worded_differently(content):
    """No sentence of a question body is shared by more than half of its problem's threads."""
    for planted in PLANTED_PROBLEMS:
        threads = [t for t in content.threads if t.problem_key == planted["key"]]
        assert len({t.body_md for t in threads}) == len(threads)
        assert len({t.title for t in threads}) >= 0.5 * len(threads), planted["key"]
        sentences = Counter()
        for t in threads:
            sentences.update({s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", t.body_md) if len(s.strip()) > 25})
        sentence, n = sentences.most_common(1)[0]
        assert n <= 0.5 * len(threads), (planted["key"], sentence)
        lengths = sorted(len(t.body_md) for t in threads)
        assert lengths[-1] > 4 * lengths[0]  # one-liners and long posts


def test_demo_logins_exist_with_an_acceptable_password(content):
    emails = {u.email: u for u in content.users}
    assert {email for email, _ in DEMO_LOGINS} <= set(emails)
    assert emails["customer-admin@demo.test"].is_org_admin and not emails["customer@demo.test"].is_org_admin
    assert emails["admin@demo.test"].is_admin and emails["lead@demo.test"].is_lead
    assert emails["moderator@demo.test"].is_moderator
    customer_org = emails["customer@demo.test"].org_slug
    assert (emails["partner@demo.test"].org_slug, customer_org) in content.engagements
    for email, _ in DEMO_LOGINS:
        user = emails[email]
        assert password_problems(DEMO_PASSWORD, email=email, username=user.username,
                                 display_name=user.display_name) == []
