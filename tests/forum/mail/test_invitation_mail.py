"""An invitation for one address is mailed there through the outbox, and its link registers."""
from __future__ import annotations

import re

from forum.extensions import db
from forum.models import MailMessage, MailStatus
from forum.services.orgs.accounts import create_invitation


def test_an_invitation_for_an_address_arrives_with_a_working_link(app, client, make, smtp):
    org = make.customer_org("Invited Mills")
    admin = make.user(org, is_org_admin=True)
    create_invitation(org, admin, email="New.Person@Example.test")
    create_invitation(org, admin)  # a link for anyone: nothing to mail
    [arrived] = smtp.wait_for(1)
    assert arrived.recipients == ["new.person@example.test"]
    assert "Invited Mills" in arrived.subject and admin.display_name in arrived.text
    path = re.search(r"https?://[^/\s]+(/register/[^\s\"<]+)", arrived.text).group(1)
    assert client.get(path).status_code == 200
    [row] = db.session.query(MailMessage).all()
    assert row.status is MailStatus.SENT and row.kind == "invitation" and row.secret == ""
    assert path.rsplit("/", 1)[1] not in row.body_text  # the outbox never kept the working link in its text
