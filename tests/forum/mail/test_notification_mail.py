"""Notification email delivered to a real SMTP server on localhost: immediate, daily digest, unsubscribe links."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import EmailMode, MailMessage, MailStatus, Notification, Visibility, Watch, WatchTarget
from forum.services.community import notifications
from tests.factories import csrf_token_from

CANARY = "CANARY-mail-5b1d"


@pytest.fixture()
def mail_on(app, smtp):
    return app


def _reply(client, thread_id: int, body: str):
    token = csrf_token_from(client.get(f"/t/{thread_id}").get_data(as_text=True))
    return client.post(f"/t/{thread_id}/reply", data={"body": body, "csrf_token": token})


def _unsubscribe_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/unsubscribe/[^\s\"<]+)", message.text)
    assert match, message.text
    return match.group(1)


def test_no_mail_without_mail_server(app, client, make, login, smtp):
    app.config["MAIL_SERVER"] = ""
    watcher, helper = make.user(), make.user()
    thread = make.thread(watcher)
    notifications.watch(watcher, WatchTarget.THREAD, thread.id)
    login(helper)
    _reply(client, thread.id, "hello")
    assert smtp.wait_for(1, timeout=0.5) == []
    assert len(db.session.execute(select(Notification)).all()) == 1
    assert [m.status for m in db.session.execute(select(MailMessage)).scalars()] == [MailStatus.HELD]


def test_immediate_email_and_a_working_unsubscribe_link(mail_on, smtp, client, make, login):
    watcher, helper = make.user(), make.user()
    thread = make.thread(watcher, title="Upgrade stalls at 40%")
    notifications.watch(watcher, WatchTarget.THREAD, thread.id)
    login(helper)
    assert _reply(client, thread.id, "Check the lock table.").status_code in (302, 303)
    outbox = smtp.wait_for(1)
    assert len(outbox) == 1
    message = outbox[0]
    assert message.recipients == [watcher.email]
    assert "Upgrade stalls at 40%" in message.subject and "Check the lock table." in message.text
    path = _unsubscribe_path(message)

    anonymous = mail_on.test_client()
    page = anonymous.get(path)  # GET only asks
    assert page.status_code == 200 and "Stop watching this thread?" in page.get_data(as_text=True)
    assert notifications.is_watching(watcher, WatchTarget.THREAD, thread.id)
    assert anonymous.post(path, data={}).status_code == 400  # no CSRF token
    token = csrf_token_from(page.get_data(as_text=True))
    assert anonymous.post(path, data={"csrf_token": token}).status_code == 200
    assert not notifications.is_watching(watcher, WatchTarget.THREAD, thread.id)
    assert anonymous.get(path).status_code == 404  # spent
    assert anonymous.get("/unsubscribe/forged-token").status_code == 404


def test_digest_collects_items_and_the_command_sends_once(mail_on, smtp, client, make, login):
    watcher, helper = make.user(), make.user()
    notifications.set_email_mode(watcher, EmailMode.DIGEST)
    threads = [make.thread(watcher, title=f"Digest thread {i}") for i in range(2)]
    for thread in threads:
        notifications.watch(watcher, WatchTarget.THREAD, thread.id)
    login(helper)
    for thread in threads:
        _reply(client, thread.id, "a reply")
    assert smtp.wait_for(1, timeout=0.5) == []  # digest users get nothing immediately

    runner = mail_on.test_cli_runner()
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 digest email to the mail outbox" in result.output
    outbox = smtp.wait_for(1)
    assert len(outbox) == 1
    body = outbox[0].text
    assert "Digest thread 0" in body and "Digest thread 1" in body
    assert body.count("/unsubscribe/") == 2  # one link per watch
    runner.invoke(args=["send-digests"])
    assert len(smtp.wait_for(2, timeout=0.5)) == 1  # nothing new


def test_email_never_carries_what_the_recipient_cannot_see(mail_on, smtp, client, make, login):
    customer = make.customer_org()
    asker, staff, immediate, digest = make.user(customer), make.employee(), make.user(), make.user()
    notifications.set_email_mode(digest, EmailMode.DIGEST)
    thread = make.thread(asker, title=f"{CANARY} title")
    for user in (asker, immediate, digest):
        notifications.watch(user, WatchTarget.THREAD, thread.id)
    login(staff)
    token = csrf_token_from(client.get(f"/t/{thread.id}").get_data(as_text=True))
    client.post(f"/t/{thread.id}/reply", data={"body": f"{CANARY} staff note", "staff_note": "y",
                                               "csrf_token": token})
    _reply(client, thread.id, "public answer")
    outbox = smtp.wait_for(2)
    assert all(CANARY + " staff note" not in m.text for m in outbox)
    assert sorted(m.recipients[0] for m in outbox) == sorted([asker.email, immediate.email])

    # The thread becomes internal before the digest goes out: the digest leaves it out entirely.
    thread.visibility = Visibility.INTERNAL
    db.session.commit()
    mail_on.test_cli_runner().invoke(args=["send-digests"])
    assert len(smtp.wait_for(3, timeout=0.5)) == 2
    assert all(n.emailed_at is not None for n in db.session.execute(
        select(Notification).where(Notification.user_id == digest.id)).scalars())


def test_settings_page_changes_the_email_mode(app, client, make, login):
    user = make.user()
    login(user)
    page = client.get("/account/notifications")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post("/account/notifications", data={"email_mode": "digest", "csrf_token": token}).status_code == 302
    assert notifications.email_mode(user) is EmailMode.DIGEST
    assert client.post("/account/notifications", data={"email_mode": "bogus", "csrf_token": token}).status_code == 400
    assert db.session.execute(select(Watch)).first() is None
