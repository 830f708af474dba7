"""Product ideas: an ideas space's list (most wanted first), voting, staff statuses, and the pattern whose fix
waits on an idea. The idea itself is a thread: reading, replying and moderating it are the board's."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..extensions import login_manager
from ..forms.board import ActionForm
from ..labels import label
from ..permissions import PermissionDenied
from ..ratelimits import limit_posting
from ..services.board import pages
from ..services.board.threads import ValidationFailed
from ..services.ideas import ideas
from ..services.patterns import detail as pattern_detail
from .lookup import or_404, page_number

bp = Blueprint("ideas", __name__)


@bp.app_context_processor
def _helpers() -> dict:
    return {"idea_panel": lambda thread: ideas.panel(current_user, thread),
            "pattern_idea": lambda pattern: ideas.pattern_idea(current_user, pattern),
            # a function: translating every status cost each page render, and few pages show an idea
            "idea_status_labels": _status_labels}


def _status_labels() -> dict:
    """The idea statuses in the reader's language (the service's English names stay for the audit log)."""
    return {status: label(status.value) for status in ideas.STATUS_LABELS}


@bp.get("/ideas/<slug>")
def index(slug: str):
    """An ideas space: its ideas by votes from distinct customer organisations, filtered by status."""
    if not current_user.is_authenticated and not current_app.config.get("PUBLIC_READ"):
        return login_manager.unauthorized()
    space = pages.space_by_slug(current_user, slug)
    if space is None or not permissions.is_idea_space(space):
        abort(404)
    wanted = request.args.get("status") or None
    status = ideas.parse_status(wanted) if wanted in {s.value for s in ideas.STATUS_LABELS} else None
    result = ideas.list_ideas(current_user, space, page_number(), current_app.config["PAGE_SIZE"], status)
    return render_template("ideas/index.html", space=space, ideas_page=result, status=status,
                           labels=_status_labels(), may_post=permissions.can_post_in_space(current_user, space))


def _idea_thread_or_404(thread_id: int):
    thread = pages.visible_thread(current_user, thread_id)
    if thread is None or not permissions.is_idea(thread):
        abort(404)
    return thread


@bp.post("/t/<int:thread_id>/idea/vote")
@login_required
@limit_posting
def vote(thread_id: int):
    thread = _idea_thread_or_404(thread_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        voted = ideas.toggle_vote(current_user, thread)
    except PermissionDenied:
        abort(403)
    flash(_("Your vote is counted.") if voted else _("Your vote is withdrawn."), "success")
    back = request.form.get("back")
    if back == "list":
        return redirect(url_for("ideas.index", slug=thread.space.slug))
    return redirect(url_for("board.thread", thread_id=thread.id))


@bp.post("/t/<int:thread_id>/idea/status")
@login_required
def set_status(thread_id: int):
    thread = _idea_thread_or_404(thread_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        ideas.set_status(current_user, thread, ideas.parse_status(request.form.get("status")),
                         request.form.get("note", ""))
    except PermissionDenied:
        abort(403)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("Status saved; everyone who voted for this idea is notified."), "success")
    return redirect(url_for("board.thread", thread_id=thread.id))


@bp.post("/patterns/<int:pattern_id>/idea")
@login_required
def link_pattern(pattern_id: int):
    """A lead records that the pattern's fix is not possible yet and which idea would make it possible."""
    if not permissions.can_link_pattern_idea(current_user):
        abort(403)
    pattern = or_404(pattern_detail.pattern(pattern_id) if 0 < pattern_id <= pages.MAX_ID else None)
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = (request.form.get("idea") or "").strip()
    thread = ideas.idea_by_reference(current_user, raw) if raw else None
    if raw and thread is None:
        flash(_("That is not an idea you can see: give its number or its address (…/t/123)."), "error")
        return redirect(url_for("patterns.show", pattern_id=pattern.id))
    try:
        ideas.link_pattern(current_user, pattern, thread)
    except PermissionDenied:
        abort(403)
    flash(_("The pattern now waits on this idea.") if thread else _("The pattern no longer waits on an idea."), "success")
    return redirect(url_for("patterns.show", pattern_id=pattern.id))
