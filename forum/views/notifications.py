"""Inbox, watch buttons, email settings, unsubscribe links, presence hooks and the digest command."""
from __future__ import annotations

import click
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import permissions
from ..extensions import db
from ..models import EmailMode, Pattern, Playbook, Space, Tag, WatchTarget
from ..services.board import pages
from ..services.community import inbox as inbox_service
from ..services.community import mail as notification_email
from ..services.community import notifications, presence

bp = Blueprint("notifications", __name__)


@bp.record_once
def _setup(state) -> None:
    notification_email.mail.init_app(state.app)
    state.app.cli.add_command(send_digests_command)


@bp.before_app_request
def _seen() -> None:
    # Static files never count as presence (and must not cost a user load).
    if request.endpoint in (None, "static") or request.endpoint.endswith(".static"):
        return
    if current_user.is_authenticated:
        presence.touch(current_user._get_current_object())


@bp.app_context_processor
def _template_helpers() -> dict:
    def header_counts() -> tuple[int, int]:
        # The header's unread and staff-online counts in ONE query per page, remembered for the request.
        if "notification_header" not in g:
            g.notification_header = inbox_service.header_counts(current_user)
        return g.notification_header

    def watching(target: str, target_id: int) -> bool:
        return notifications.is_watching(current_user, WatchTarget(target), target_id)

    def tag_named(name: str) -> Tag | None:
        return db.session.execute(select(Tag).where(Tag.name == name)).scalar_one_or_none()

    return {"header_counts": header_counts, "tag_named": tag_named, "is_online": presence.is_online,
            "view_thread": presence.view_thread, "watching": watching}


# --- inbox ---------------------------------------------------------------------------------------

@bp.route("/inbox")
@login_required
def inbox():
    """The signed-in user's notifications, newest first, each checked against what they may see now."""
    result = inbox_service.inbox_page(current_user, pages.clamp_page(request.args.get("page")),
                                      current_app.config["PAGE_SIZE"])
    return render_template("notifications/inbox.html", result=result)


def _notification_id() -> int:
    try:
        value = int(request.form.get("notification", ""))
    except ValueError:
        abort(400)
    if not 0 < value < pages.MAX_ID:
        abort(404)
    return value


@bp.route("/inbox/read", methods=["POST"])
@login_required
def mark_read():
    if inbox_service.mark_read(current_user, _notification_id()) is None:
        abort(404)
    return redirect(url_for("notifications.inbox", page=request.form.get("page", type=int)))


@bp.route("/inbox/open", methods=["POST"])
@login_required
def open_item():
    """Mark an item read and go to what it is about (if the user may still see it)."""
    item = inbox_service.mark_read(current_user, _notification_id())
    if item is None:
        abort(404)
    shown = inbox_service.describe(current_user, item)
    if not shown.visible:
        flash("That item is no longer available to you.", "error")
        return redirect(url_for("notifications.inbox"))
    if shown.thread_id is not None:
        anchor = f"r{shown.reply_id}" if shown.reply_id else None
        return redirect(url_for("board.thread", thread_id=shown.thread_id, _anchor=anchor))
    if shown.pattern_id is not None:
        return redirect(url_for("patterns.show", pattern_id=shown.pattern_id))
    return redirect(url_for("playbooks.show", playbook_id=shown.playbook_id))


@bp.route("/inbox/read-all", methods=["POST"])
@login_required
def mark_all_read():
    count = inbox_service.mark_all_read(current_user)
    flash(f"Marked {count} notification{'s' if count != 1 else ''} read.", "success")
    return redirect(url_for("notifications.inbox"))


# --- watching ------------------------------------------------------------------------------------

def _target_or_404() -> tuple[WatchTarget, int, str]:
    """The target named by the form, if the user may see it, with the page to go back to."""
    try:
        target = WatchTarget(request.form.get("target", ""))
        target_id = int(request.form.get("target_id", ""))
    except ValueError:
        abort(400)
    if not 0 < target_id < pages.MAX_ID:
        abort(404)
    if target is WatchTarget.THREAD:
        if pages.visible_thread(current_user, target_id) is None:
            abort(404)
        return target, target_id, url_for("board.thread", thread_id=target_id)
    if target is WatchTarget.SPACE:
        space = db.session.get(Space, target_id)
        if space is None or not permissions.can_view_space(current_user, space):
            abort(404)
        return target, target_id, url_for("board.space", slug=space.slug)
    if target is WatchTarget.TAG:
        tag = db.session.get(Tag, target_id)
        if tag is None:
            abort(404)
        return target, target_id, request.referrer if _same_site(request.referrer) else url_for("board.home")
    if target is WatchTarget.PATTERN:

        if not permissions.can_view_patterns(current_user) or db.session.get(Pattern, target_id) is None:
            abort(404)
        return target, target_id, url_for("patterns.show", pattern_id=target_id)

    playbook = db.session.get(Playbook, target_id)
    if playbook is None or not permissions.can_view_playbook(current_user, playbook):
        abort(404)
    return target, target_id, url_for("playbooks.show", playbook_id=target_id)


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.route("/watch", methods=["POST"])
@login_required
def watch():
    target, target_id, back = _target_or_404()
    notifications.watch(current_user, target, target_id)
    flash(f"You are watching this {target.value}.", "success")
    return redirect(back)


@bp.route("/unwatch", methods=["POST"])
@login_required
def unwatch():
    target, target_id, back = _target_or_404()
    notifications.unwatch(current_user, target, target_id)
    flash(f"You stopped watching this {target.value}.", "success")
    return redirect(back)


# --- email settings and unsubscribe --------------------------------------------------------------

@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Email preference: immediate, a daily digest, or none."""
    if request.method == "POST":
        try:
            mode = EmailMode(request.form.get("email_mode", ""))
        except ValueError:
            abort(400)
        notifications.set_email_mode(current_user, mode)
        flash("Notification settings saved.", "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", mode=notifications.email_mode(current_user),
                           modes=list(EmailMode), watch_count=notifications.watch_count(current_user),
                           mail_enabled=notification_email.mail_enabled())


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET shows what the link stops; POST (with the page's CSRF token) removes the watch."""
    watch_row = notification_email.watch_for_token(token)
    if request.method == "POST":
        if watch_row is not None:
            notifications.remove_watch(watch_row)
        return render_template("notifications/unsubscribe.html", done=True, label=None)
    if watch_row is None:
        return render_template("notifications/unsubscribe.html", done=False, label=None), 404
    return render_template("notifications/unsubscribe.html", done=False,
                           label=notification_email.watch_label(watch_row))


# --- command -------------------------------------------------------------------------------------

@click.command("send-digests")
def send_digests_command() -> None:
    """Email each daily-digest subscriber what they have not been mailed yet (run once a day)."""
    app = current_app._get_current_object()
    base = app.config.get("SITE_URL") or "http://localhost:5000"
    # Links in the mail need a host; outside a request it comes from SERVER_NAME or SITE_URL.
    with app.test_request_context(base_url=None if app.config.get("SERVER_NAME") else base):
        sent = notification_email.send_digests()
    click.echo(f"Sent {sent} digest email{'s' if sent != 1 else ''}.")
