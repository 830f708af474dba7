"""``permissions.leads()`` (a WHERE clause, for choosing whom lead news goes to) keeps exactly the members
``permissions.is_lead`` says yes to: the rule stays in the permissions module, twice-written only as its SQL twin."""
from __future__ import annotations

from forum import permissions
from forum.extensions import db
from forum.models import OrgKind, User


def test_the_sql_rule_keeps_exactly_the_leads(app, make):
    vendor, customer, partner = make.vendor_org(), make.customer_org(), make.org(OrgKind.PARTNER)
    members = [
        make.user(vendor, is_lead=True), make.user(vendor, is_admin=True), make.user(vendor),
        make.user(vendor, is_moderator=True),
        # flags on people outside the vendor make no lead of them
        make.user(customer, is_lead=True), make.user(customer, is_admin=True), make.user(partner, is_lead=True),
        make.user(partner, is_admin=True), make.user(customer),
    ]
    chosen = set(db.session.execute(db.select(User.id).where(permissions.leads())).scalars())
    assert chosen == {u.id for u in members if permissions.is_lead(u)}
    assert len(chosen) == 2
