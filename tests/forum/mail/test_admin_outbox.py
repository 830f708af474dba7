"""The admin's view of the mail outbox: every state with its reason, and a preview of any message."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from forum.extensions import db
from forum.models import MailMessage, MailStatus
from forum.services.mail import delivery, outbox
from tests.factories import csrf_token_from


def _queue(user, subject: str, secret: str = "") -> int:
    job = outbox.queue(kind="password_reset" if secret else "notification", recipient=user.email, subject=subject,
                       body_text=f"Open https://forum.test/password/reset/{outbox.SECRET_MARK} soon" if secret
                       else "Plain body <b>text</b>", body_html="<p>Hello <script>alert(1)</script></p>",
                       user=user, secret=secret)
    db.session.commit()
    return job.args[0] if job is not None else db.session.query(MailMessage.id).order_by(MailMessage.id.desc()).first()[0]


def test_only_admins_see_the_outbox(app, client, make, login):
    message_id = _queue(make.user(), "Held message")
    urls = ["/admin/mail", f"/admin/mail/{message_id}", f"/admin/mail/{message_id}/html"]
    for user, expected in ((make.user(), 403), (make.employee(is_moderator=True), 403),
                           (make.user(is_org_admin=True), 403), (make.employee(is_admin=True), 200)):
        signed_in = app.test_client()
        login(user, signed_in)
        assert [signed_in.get(url).status_code for url in urls] == [expected] * 3, user
    anonymous = app.test_client()
    assert all(anonymous.get(url).status_code == 302 for url in urls)


def test_held_messages_are_listed_and_previewed_with_their_link_withheld(app, client, make, login):
    app.config["MAIL_SERVER"] = ""
    user = make.user()
    plain = _queue(user, "A held notification")
    reset = _queue(user, "Reset your password", secret="the-real-token-123")
    login(make.employee(is_admin=True))
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "A held notification" in page and "Reset your password" in page and "held (2)" in page
    assert "No mail server is configured" in page
    shown = client.get(f"/admin/mail/{reset}").get_data(as_text=True)
    assert "the-real-token-123" not in shown and outbox.REDACTED in shown
    assert "the-real-token-123" not in client.get(f"/admin/mail/{reset}/html").get_data(as_text=True)
    assert "Plain body &lt;b&gt;text&lt;/b&gt;" in client.get(f"/admin/mail/{plain}").get_data(as_text=True)
    html = client.get(f"/admin/mail/{plain}/html")
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    assert client.get("/admin/mail/999999").status_code == 404
    assert client.get("/admin/mail?status=bogus&page=x").status_code == 200


def test_failed_messages_show_their_reason(app, client, make, login):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_MAX_ATTEMPTS=1)  # nothing listens on port 9
    message_id = _queue(make.user(), "Goes nowhere")
    assert delivery.deliver(message_id) is MailStatus.FAILED
    login(make.employee(is_admin=True))
    page = client.get("/admin/mail?status=failed").get_data(as_text=True)
    assert "Goes nowhere" in page and "ConnectionRefusedError" in page


def test_the_send_mail_command_runs_one_sweep(app, make, smtp):
    user = make.user()
    smtp.stop()
    message_id = _queue(user, "Sent by the command")
    delivery.deliver(message_id)
    smtp.start()
    row = db.session.get(MailMessage, message_id)
    row.due_at = row.due_at.replace(year=2000)
    db.session.commit()
    # The README's command (`flask --app wsgi send-mail`), with the venv's flask script, from the repository root.
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="send-mail-test-secret",
               MAIL_SERVER="127.0.0.1", FORUM_MAIL_PORT=str(smtp.port),
               FORUM_MAIL_DEFAULT_SENDER="forum@example.test")
    env.pop("PYTHONPATH", None)
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "send-mail"],
                            cwd=Path(__file__).resolve().parents[3], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sent: 1" in result.stdout, result.stdout + result.stderr
    assert [m.subject for m in smtp.wait_for(1)] == ["Sent by the command"]


def test_an_admin_sends_a_failed_message_again(app, client, make, login, smtp):
    app.config.update(MAIL_MAX_ATTEMPTS=1)
    smtp.stop()
    message_id = _queue(make.user(), "Second chance")
    assert delivery.deliver(message_id) is MailStatus.FAILED
    smtp.start()
    admin = make.employee(is_admin=True)
    signed_in = app.test_client()
    login(admin, signed_in)
    page = signed_in.get(f"/admin/mail/{message_id}").get_data(as_text=True)
    assert "Send again" in page
    token = csrf_token_from(page)
    response = signed_in.post(f"/admin/mail/{message_id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert [m.subject for m in smtp.wait_for(1)] == ["Second chance"]
    db.session.expire_all()
    row = db.session.get(MailMessage, message_id)
    assert row.status is MailStatus.SENT and row.attempts == 1
    assert signed_in.post(f"/admin/mail/{message_id}/retry", data={"csrf_token": token}).status_code == 404  # sent
    moderator = app.test_client()
    login(make.employee(is_moderator=True), moderator)
    own_token = csrf_token_from(moderator.get("/").get_data(as_text=True))
    assert moderator.post(f"/admin/mail/{message_id}/retry", data={"csrf_token": own_token}).status_code == 403
