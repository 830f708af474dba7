"""With a broker, mail leaves through a real Celery worker (the README's command) and reaches the SMTP server."""
from __future__ import annotations

import time

import pytest

from forum.extensions import db
from forum.models import MailMessage, MailStatus
from forum.services import background
from forum.services.mail import outbox
from tests.forum.patterns.test_mining_celery import worker  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture()
def mail_env(monkeypatch, smtp):
    """The worker process reads its mail server from the environment, like a deployed one."""
    monkeypatch.setenv("FORUM_MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("FORUM_MAIL_PORT", str(smtp.port))
    monkeypatch.setenv("FORUM_MAIL_DEFAULT_SENDER", "forum@example.test")
    return smtp


def test_a_worker_delivers_queued_mail(app, make, mail_env, worker):  # noqa: F811
    celery_app, proc = worker
    user = make.user()
    with celery_app.app_context():
        assert background.has_broker() and outbox.mail_enabled()
        job = outbox.queue(kind="notification", recipient=user.email, subject="Through the worker",
                           body_text="Delivered by Celery.", user=user)
        db.session.commit()
        background.dispatch(job)
        message_id = job.args[0]
    arrived = mail_env.wait_for(1, timeout=120)
    assert proc.poll() is None, proc.log.read_text()
    assert [(m.subject, m.recipients) for m in arrived] == [("Through the worker", [user.email])]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(MailMessage, message_id).status is MailStatus.SENT:
            break
        time.sleep(0.2)
    assert db.session.get(MailMessage, message_id).status is MailStatus.SENT
