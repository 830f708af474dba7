"""Direct messages: the list of conversations, a conversation, writing, blocking and reporting; the moderators'
review of reported messages. A conversation is answered with 404 to anyone but its members."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..forms.board import ActionForm
from ..forms.messages import MessageForm, NewConversationForm, ReportMessageForm
from ..forms.moderation import ReviewForm
from ..permissions import PermissionDenied
from ..ratelimits import limit_messages, limit_new_conversations
from ..services.board.threads import ValidationFailed
from ..services.messages import blocks, conversations, reports, settings
from ..services.moderation import actions as moderation
from ..services.orgs import accounts
from ..services.orgs import organisations as org_service
from ..services.paging import page_of
from .lookup import or_404, page_number

bp = Blueprint("messages", __name__)


@bp.before_request
@login_required
def _members_only() -> None:
    return None


@bp.app_context_processor
def _review_counts() -> dict:
    def reported_messages_waiting() -> int:
        # Asked by the review queue's page only.
        return reports.open_count(current_user) if current_user.is_authenticated else 0

    # The header's unread conversations come with its other figures (notifications' ``unread_conversations``).
    return {"reported_messages_waiting": reported_messages_waiting}


def _form_error(form, exc: ValidationFailed) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    (field.errors if field is not None else form.form_errors).append(exc.message)


@bp.get("/messages")
def index():
    """The member's conversations, newest first, unread ones marked."""
    return render_template("messages/index.html", rows=conversations.conversations_for(current_user))


@bp.route("/messages/new", methods=["GET", "POST"])
@limit_messages
@limit_new_conversations
def new():
    """Start a conversation with one or a few members."""
    form = NewConversationForm()
    if request.method == "GET" and request.args.get("to"):
        form.to.data = request.args["to"][:400]
    if form.validate_on_submit():
        try:
            recipients = conversations.recipients_by_name(current_user, form.to.data)
            started = conversations.start(current_user, recipients, form.subject.data or "", form.body.data)
        except ValidationFailed as exc:
            _form_error(form, exc)
        else:
            flash(_("Message sent."), "success")
            return redirect(url_for("messages.conversation", conversation_id=started.id))
    status = 400 if request.method == "POST" else 200
    return render_template("messages/new.html", form=form), status


def _conversation_or_404(conversation_id: int):
    return or_404(conversations.visible_conversation(current_user, conversation_id))


def _render(conversation, members, form: MessageForm | None = None, status: int = 200):
    return render_template(
        "messages/conversation.html", conversation=conversation, members=members,
        messages=conversations.messages_of(conversation), form=form or MessageForm(),
        may_send=permissions.can_send_message(current_user, members), report_form=ReportMessageForm()), status


@bp.get("/messages/<int:conversation_id>")
def conversation(conversation_id: int):
    """A conversation (its members only); opening it marks it read."""
    found, members = _conversation_or_404(conversation_id)
    conversations.mark_read(current_user, found)
    return _render(found, members)


@bp.post("/messages/<int:conversation_id>")
@limit_messages
def send(conversation_id: int):
    found, members = _conversation_or_404(conversation_id)
    form = MessageForm()
    if not form.validate_on_submit():
        return _render(found, members, form, 400)
    try:
        message = conversations.send(current_user, found, form.body.data)
    except PermissionDenied:
        abort(404)
    except ValidationFailed as exc:
        _form_error(form, exc)
        return _render(found, members, form, 400)
    return redirect(url_for("messages.conversation", conversation_id=found.id, _anchor=f"m{message.id}"))


@bp.post("/messages/m/<int:message_id>/report")
def report(message_id: int):
    """Report a message to the moderators."""
    message = or_404(reports.visible_message(current_user, message_id))
    form = ReportMessageForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reports.report(current_user, message, form.reason.data, form.detail.data or "")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("Thanks: a moderator will look at this message."), "success")
    return redirect(url_for("messages.conversation", conversation_id=message.conversation_id, _anchor=f"m{message.id}"))


# --- blocks --------------------------------------------------------------------------------------

@bp.get("/messages/blocked")
def blocked():
    return render_template("messages/blocked.html", rows=blocks.blocked_by(current_user), form=ActionForm())


@bp.post("/u/<username>/block")
def block(username: str):
    other = or_404(accounts.get_user_by_username(username))
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        blocks.block(current_user, other)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_('You blocked %(display_name)s: neither of you can write to the other now.', display_name=other.display_name), "success")
    return redirect(request.form.get("back") == "blocked" and url_for("messages.blocked")
                    or url_for("auth.profile", username=other.username))


@bp.post("/u/<username>/unblock")
def unblock(username: str):
    other = or_404(accounts.get_user_by_username(username))
    if not ActionForm().validate_on_submit():
        abort(400)
    if blocks.unblock(current_user, other):
        flash(_('%(display_name)s is no longer blocked.', display_name=other.display_name), "success")
    return redirect(url_for("messages.blocked"))


# --- an organisation's setting ---------------------------------------------------------------------

@bp.post("/orgs/<slug>/customer-messages")
def customer_messages(slug: str):
    """An org admin allows (or stops) direct messages with members of other customer organisations."""
    organisation = or_404(org_service.organisation_by_slug(slug))
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    allow = request.form.get("allow") == "1"
    try:
        settings.set_customer_messages(current_user, organisation, allow)
    except PermissionDenied:
        abort(403)
    flash(_("Members of other customer organisations that allow it too can now write to your members.") if allow else _("Only staff, your own members and engaged partners can write to your members now."), "success")
    return redirect(url_for("orgs.show", slug=organisation.slug))


# --- moderators: reported messages ---------------------------------------------------------------

@bp.get("/moderation/messages")
def reported():
    """Reported messages (the message alone, never its conversation), for moderators."""
    if not permissions.can_review_message_reports(current_user):
        abort(403)
    status = moderation.flag_status(request.args.get("status", "open"))
    page = page_of(reports.reports_query(current_user, status), page_number(), current_app.config["PAGE_SIZE"])
    return render_template("messages/reported.html", page=page, status=status,
                           statuses=moderation.flag_statuses(), form=ReviewForm())


@bp.post("/moderation/messages/<int:report_id>/review")
def review(report_id: int):
    if not permissions.can_review_message_reports(current_user):
        abort(403)
    row = or_404(reports.report_row(report_id))
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reports.review(current_user, row, form.decision.data, form.note.data or "")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("Report resolved.") if form.decision.data == "resolved" else _("Report dismissed."), "success")
    return redirect(url_for("messages.reported"))
