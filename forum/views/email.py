"""Notification e-mail bodies, written from the notifications templates (templates are the web layer's)."""
from __future__ import annotations

from flask import render_template


def notification_bodies(context: dict) -> tuple[str, str]:
    """The (text, html) bodies of one notification e-mail."""
    return (render_template("notifications/email.txt", **context),
            render_template("notifications/email.html", **context))
