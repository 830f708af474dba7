"""The mail outbox delivered to a real SMTP server (aiosmtpd on localhost): sent, held, retried, failed."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import MailMessage, MailStatus, Visibility, WatchTarget
from forum.services.community import notifications
from forum.services.mail import delivery, outbox, sweeper
from tests.factories import csrf_token_from


def _reply(client, thread_id: int, body: str):
    token = csrf_token_from(client.get(f"/t/{thread_id}").get_data(as_text=True))
    return client.post(f"/t/{thread_id}/reply", data={"body": body, "csrf_token": token})


def _watched_thread(make, title: str = "Upgrade stalls at 40%"):
    watcher, helper = make.user(), make.user()
    thread = make.thread(watcher, title=title)
    notifications.watch(watcher, WatchTarget.THREAD, thread.id)
    return watcher, helper, thread


def _messages() -> list[MailMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(MailMessage).order_by(MailMessage.id)).scalars())


def test_a_notification_reaches_the_smtp_server(app, client, make, login, smtp):
    watcher, helper, thread = _watched_thread(make)
    login(helper)
    assert _reply(client, thread.id, "Check the lock table.").status_code in (302, 303)
    arrived = smtp.wait_for(1)
    assert len(arrived) == 1
    assert arrived[0].recipients == [watcher.email]
    assert arrived[0].sender == "forum@example.test"
    assert "Upgrade stalls at 40%" in arrived[0].subject
    assert "Check the lock table." in arrived[0].text and "Check the lock table." in arrived[0].html
    [row] = _messages()
    assert (row.status, row.kind, row.recipient, row.attempts) == (MailStatus.SENT, "notification", watcher.email, 1)
    assert row.sent_at is not None and row.last_error == ""


def test_without_a_mail_server_messages_are_held(app, client, make, login, smtp):
    app.config["MAIL_SERVER"] = ""
    watcher, helper, thread = _watched_thread(make)
    login(helper)
    _reply(client, thread.id, "Held reply text")
    [row] = _messages()
    assert row.status is MailStatus.HELD and "Held reply text" in row.body_text
    assert sweeper.sweep_once()["sent"] == 0
    assert smtp.received == []


def test_the_row_belongs_to_the_transaction_of_its_cause(app, make, smtp):
    user = make.user()
    job = outbox.queue(kind="notification", recipient=user.email, subject="Never sent", body_text="x", user=user)
    assert job is not None
    db.session.rollback()  # what caused it did not happen: neither does the mail
    assert _messages() == []
    assert sweeper.sweep_once()["sent"] == 0
    assert smtp.received == []


def test_smtp_down_for_a_while_loses_nothing(app, client, make, login, smtp):
    """The server is stopped, mail is queued meanwhile (every attempt fails), the server comes back and the
    retries deliver every message: none lost, none twice."""
    app.config.update(MAIL_RETRY_SECONDS=0.2, MAIL_RETRY_MAX_SECONDS=0.5, MAIL_MAX_ATTEMPTS=1000)
    watchers = [make.user() for _ in range(3)]
    helper = make.user()
    thread = make.thread(watchers[0], title="Outage thread")
    for watcher in watchers:
        notifications.watch(watcher, WatchTarget.THREAD, thread.id)
    login(helper)
    smtp.stop()
    outage_started = time.monotonic()
    for n in range(4):
        _reply(client, thread.id, f"reply {n} during the outage")
    rows = _messages()
    assert len(rows) == 12  # 4 replies x 3 watchers
    assert all(r.status is MailStatus.QUEUED and r.attempts == 1 and "Connection" in r.last_error for r in rows)
    deadline = time.monotonic() + 30
    # The sweeps keep trying for a while: at least three attempts each and over a second of outage (on a fast
    # machine three attempts 0.2 s and 0.4 s apart came in under a second, which the outage must outlast).
    while ((min(r.attempts for r in _messages()) < 3 or time.monotonic() - outage_started <= 1.2)
           and time.monotonic() < deadline):
        time.sleep(0.25)
        sweeper.sweep_once()
    assert all(r.status is MailStatus.QUEUED for r in _messages())
    assert min(r.attempts for r in _messages()) >= 3
    assert time.monotonic() - outage_started > 1  # down for a while, not one failed attempt
    smtp.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(r.status is not MailStatus.SENT for r in _messages()):
        time.sleep(0.25)
        sweeper.sweep_once()
    assert [r.status for r in _messages()] == [MailStatus.SENT] * 12
    arrived = smtp.wait_for(12)
    assert len(arrived) == 12
    got = sorted((r.recipients[0], r.text.split("reply ")[1][:1]) for r in arrived)
    assert got == sorted((w.email, str(n)) for w in watchers for n in range(4))


def test_retries_back_off_and_end_failed_with_the_reason(app, make, smtp):
    app.config.update(MAIL_RETRY_SECONDS=60, MAIL_RETRY_MAX_SECONDS=600, MAIL_MAX_ATTEMPTS=3)
    smtp.stop()
    user = make.user()
    job = outbox.queue(kind="notification", recipient=user.email, subject="Retried", body_text="x", user=user)
    db.session.commit()
    row_id = job.args[0]
    waits = []
    for _ in range(3):
        before = db.session.get(MailMessage, row_id)
        before.due_at = before.due_at.replace(year=2000)  # due now, whatever the backoff said
        db.session.commit()
        start = time.time()
        delivery.deliver(row_id)
        row = _messages()[0]
        waits.append(round((row.due_at.timestamp() - start) / 60))
    assert row.status is MailStatus.FAILED and row.attempts == 3
    assert "ConnectionRefusedError" in row.last_error
    assert waits[:2] == [1, 2]  # 60 s, then 120 s
    assert delivery.deliver(row_id) is None  # failed is final


def test_a_permanent_refusal_fails_at_once(app, make, smtp):
    user = make.user()
    smtp.handler.refuse.add(user.email)
    job = outbox.queue(kind="notification", recipient=user.email, subject="Refused", body_text="x", user=user)
    db.session.commit()
    assert delivery.deliver(job.args[0]) is MailStatus.FAILED
    [row] = _messages()
    assert row.attempts == 1 and "550" in row.last_error and "No such mailbox" in row.last_error
    assert smtp.received == []


def test_mail_about_something_no_longer_visible_is_cancelled(app, client, make, login, smtp):
    watcher, helper, thread = _watched_thread(make, title="Becomes internal")
    login(helper)
    smtp.stop()
    _reply(client, thread.id, "A reply before the thread became internal")
    thread.visibility = Visibility.INTERNAL
    db.session.commit()
    smtp.start()
    [row] = _messages()
    row.due_at = row.due_at.replace(year=2000)
    db.session.commit()
    sweeper.sweep_once()
    [row] = _messages()
    assert row.status is MailStatus.CANCELLED and "no longer see" in row.last_error
    assert smtp.received == []


def test_one_message_is_sent_once_by_two_sweeps(app, make, smtp):
    smtp.stop()
    user = make.user()
    job = outbox.queue(kind="notification", recipient=user.email, subject="Once", body_text="x", user=user)
    db.session.commit()
    delivery.deliver(job.args[0])  # fails: queued for later
    smtp.start()
    row = db.session.get(MailMessage, job.args[0])
    row.due_at = row.due_at.replace(year=2000)
    db.session.commit()
    assert delivery.deliver(job.args[0]) is MailStatus.SENT
    assert delivery.deliver(job.args[0]) is None
    assert len(smtp.wait_for(1, timeout=1)) == 1
    assert db.session.execute(select(func.count(MailMessage.id))).scalar_one() == 1
