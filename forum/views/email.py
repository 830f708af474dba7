"""E-mail bodies, written from templates (templates are the web layer's; services ask through a hook)."""
from __future__ import annotations

from contextlib import nullcontext

from flask import current_app, has_request_context, render_template


def _link_context():
    # Links in mail need a host: outside a request (the sweeper, a worker, a command) it comes from SERVER_NAME,
    # else from SITE_URL.
    if has_request_context():
        return nullcontext()
    app = current_app._get_current_object()
    base = None if app.config.get("SERVER_NAME") else (app.config.get("SITE_URL") or "http://localhost:5000")
    return app.test_request_context(base_url=base)


def notification_bodies(context: dict) -> tuple[str, str]:
    """The (text, html) bodies of one notification e-mail."""
    with _link_context():
        return (render_template("notifications/email.txt", **context),
                render_template("notifications/email.html", **context))


def mail_bodies(template: str, context: dict) -> tuple[str, str]:
    """The (text, html) bodies of ``mail/<template>.txt`` and ``.html``."""
    with _link_context():
        return (render_template(f"mail/{template}.txt", **context),
                render_template(f"mail/{template}.html", **context))
