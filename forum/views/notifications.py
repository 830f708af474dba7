"""Inbox, watch buttons, email settings, unsubscribe links, presence hooks and the digest command."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..labels import label
from ..services.board import pages
from ..services.community import inbox as inbox_service
from ..services.community import mail as notification_email
from ..services.community import notifications, presence
from ..services.mail import sweeper as mail_sweeper
from ..services.messages import conversations
from .lookup import or_404

if TYPE_CHECKING:
    from ..models import WatchTarget

bp = Blueprint("notifications", __name__)


@bp.record_once
def _setup(state) -> None:
    notification_email.mail.init_app(state.app)
    state.app.cli.add_command(send_digests_command)
    state.app.cli.add_command(send_mail_command)


@bp.before_app_request
def _seen() -> None:
    # Static files never count as presence (and must not cost a user load).
    if request.endpoint in (None, "static") or request.endpoint.endswith(".static"):
        return
    if current_user.is_authenticated:
        presence.touch(current_user._get_current_object())


def _header_figures() -> tuple[int, int, int]:
    """The signed-in header's unread inbox items, staff online and unread conversations: ONE query per page,
    remembered for the request."""
    if "header_figures" not in g:
        g.header_figures = inbox_service.header_counts(current_user, conversations.unread_count_query())
    return g.header_figures


@bp.app_context_processor
def _template_helpers() -> dict:
    def header_counts() -> tuple[int, int]:
        unread, staff, _conversations = _header_figures()
        return unread, staff

    def unread_conversations() -> int:
        return _header_figures()[2] if current_user.is_authenticated else 0

    def watching(target: str, target_id: int) -> bool:
        return notifications.is_watching(current_user, notifications.watch_kind(target), target_id)

    return {"header_counts": header_counts, "unread_conversations": unread_conversations,
            "tag_named": pages.tag_named, "is_online": presence.is_online, "view_thread": presence.view_thread,
            "watching": watching}


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
        flash(_("That item is no longer available to you."), "error")
        return redirect(url_for("notifications.inbox"))
    if shown.thread_id is not None:
        anchor = f"r{shown.reply_id}" if shown.reply_id else None
        return redirect(url_for("board.thread", thread_id=shown.thread_id, _anchor=anchor))
    if shown.pattern_id is not None:
        return redirect(url_for("patterns.show", pattern_id=shown.pattern_id))
    if shown.conversation_id is not None:
        return redirect(url_for("messages.conversation", conversation_id=shown.conversation_id))
    if shown.product_version_id is not None:
        return redirect(url_for("playbooks.review", version_id=shown.product_version_id))
    return redirect(url_for("playbooks.show", playbook_id=shown.playbook_id))


@bp.route("/inbox/read-all", methods=["POST"])
@login_required
def mark_all_read():
    count = inbox_service.mark_all_read(current_user)
    flash(ngettext("Marked %(num)d notification read.", "Marked %(num)d notifications read.", count), "success")
    return redirect(url_for("notifications.inbox"))


# --- watching ------------------------------------------------------------------------------------

def _target_or_404() -> tuple[WatchTarget, int, str]:
    """The target named by the form, if the user may see it, with the page to go back to."""
    try:
        target = notifications.watch_kind(request.form.get("target", ""))
        target_id = int(request.form.get("target_id", ""))
    except ValueError:
        abort(400)
    if not 0 < target_id < pages.MAX_ID:
        abort(404)
    if target.value == "thread":
        if pages.visible_thread(current_user, target_id) is None:
            abort(404)
        return target, target_id, url_for("board.thread", thread_id=target_id)
    row = or_404(notifications.visible_watch_target(current_user, target, target_id))
    if target.value == "space":
        return target, target_id, url_for("board.space", slug=row.slug)
    if target.value == "tag":
        return target, target_id, request.referrer if _same_site(request.referrer) else url_for("board.home")
    if target.value == "pattern":
        return target, target_id, url_for("patterns.show", pattern_id=target_id)
    return target, target_id, url_for("playbooks.show", playbook_id=target_id)


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.route("/watch", methods=["POST"])
@login_required
def watch():
    target, target_id, back = _target_or_404()
    notifications.watch(current_user, target, target_id)
    flash(_('You are watching this %(value)s.', value=label(target.value)), "success")
    return redirect(back)


@bp.route("/unwatch", methods=["POST"])
@login_required
def unwatch():
    target, target_id, back = _target_or_404()
    notifications.unwatch(current_user, target, target_id)
    flash(_('You stopped watching this %(value)s.', value=label(target.value)), "success")
    return redirect(back)


# --- email settings and unsubscribe --------------------------------------------------------------

@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Email preference: immediate, a daily digest, or none."""
    if request.method == "POST":
        try:
            mode = notifications.parse_email_mode(request.form.get("email_mode", ""))
        except ValueError:
            abort(400)
        notifications.set_email_mode(current_user, mode)
        flash(_("Notification settings saved."), "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", mode=notifications.email_mode(current_user),
                           modes=notifications.email_modes(), watch_count=notifications.watch_count(current_user),
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
    click.echo(f"Sent {sent} digest email{'s' if sent != 1 else ''} to the mail outbox.")


@click.command("send-mail")
def send_mail_command() -> None:
    """Send the bookmark reminders that came due and attempt the mail that is due (what each server process's
    sweeper does every MAIL_SWEEP_SECONDS)."""
    done = mail_sweeper.sweep_once()
    click.echo(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in done.items()))
