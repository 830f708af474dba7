"""Moderation pages: flags and the review queue, thread actions (lock, pin, hide, move, visibility,
merge), and the admins' audit log, space moderators and new-member limits.

Thin: load what the user may see (else 404), check the form, call one service function, and turn
``PermissionDenied`` into 403 and ``ValidationFailed`` into form errors.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields import SelectChoice

from .. import permissions
from ..forms.moderation import (
    FlagForm,
    LimitsForm,
    MergeForm,
    MoveForm,
    ReviewForm,
    SpaceModeratorForm,
    ToggleForm,
    VisibilityForm,
)
from ..permissions import PermissionDenied
from ..ratelimits import limit_posting
from ..services.board import pages
from ..services.board.threads import ValidationFailed
from ..services.board.workflow import assignable_employees
from ..services.moderation import actions as moderation
from ..services.moderation import audit, limits
from ..services.orgs import catalog
from ..services.orgs import organisations as org_service
from ..services.paging import page_of

if TYPE_CHECKING:
    from ..models import Thread
from .lookup import or_404, page_number

bp = Blueprint("moderation", __name__)


def _thread_or_404(thread_id: int) -> Thread:
    thread = pages.visible_thread(current_user, thread_id)
    if thread is None:
        abort(404)
    return thread


def _row_id(raw: int) -> int:
    """An id from the URL, 404 when beyond PostgreSQL's integer range (it would fail, not miss)."""
    if not 0 < raw <= pages.MAX_ID:
        abort(404)
    return raw


def _form_error(form, exc: ValidationFailed) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


# --- flags ---------------------------------------------------------------------------------------

def _flag_page(thread: Thread, reply=None):
    form = FlagForm()
    if form.validate_on_submit():
        try:
            moderation.flag(current_user, thread, form.reason.data, form.detail.data or "", reply=reply)
        except PermissionDenied:
            abort(403)
        except ValidationFailed as exc:
            _form_error(form, exc)
        else:
            flash(_("Thanks — a moderator will look at it."), "success")
            return redirect(url_for("board.thread", thread_id=thread.id))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/flag.html", form=form, thread=thread, reply=reply), status


@bp.route("/t/<int:thread_id>/flag", methods=["GET", "POST"])
@login_required
@limit_posting
def flag_thread(thread_id: int):
    """Report a thread to its moderators."""
    return _flag_page(_thread_or_404(thread_id))


@bp.route("/r/<int:reply_id>/flag", methods=["GET", "POST"])
@login_required
@limit_posting
def flag_reply(reply_id: int):
    """Report one reply to its thread's moderators."""
    reply = pages.visible_reply(current_user, reply_id)
    if reply is None or reply.is_deleted:
        abort(404)
    return _flag_page(reply.thread, reply)


@bp.get("/moderation/queue")
@login_required
def queue():
    """Flags waiting for review in the spaces this user moderates (or reviewed ones, by ?status=)."""
    if not permissions.can_review_flags(current_user):
        abort(403)
    wanted = request.args.get("status", "open")
    status = moderation.flag_status(wanted)
    page = page_of(moderation.flags_query(current_user, status), page_number(), current_app.config["PAGE_SIZE"])
    return render_template("moderation/queue.html", page=page, status=status, statuses=moderation.flag_statuses(),
                           form=ReviewForm())


@bp.post("/moderation/flags/<int:flag_id>/review")
@login_required
def review(flag_id: int):
    """Resolve or dismiss one flag, with a note."""
    row = or_404(moderation.flag_row(_row_id(flag_id)))
    if not permissions.can_view(current_user, row.thread):
        abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        moderation.review_flag(current_user, row, form.decision.data, form.note.data or "")
    except PermissionDenied:
        abort(403)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("Flag resolved.") if form.decision.data == "resolved" else _("Flag dismissed."), "success")
    return redirect(url_for("moderation.queue"))


# --- thread actions ------------------------------------------------------------------------------

def _moderated_thread(thread_id: int) -> Thread:
    thread = _thread_or_404(thread_id)
    if not permissions.can_moderate_thread(current_user, thread):
        abort(403)
    return thread


def _toggle(thread_id: int, act, on_text: str, off_text: str):
    thread = _moderated_thread(thread_id)
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    on = form.on.data == "1"
    try:
        act(current_user, thread, on)
    except PermissionDenied:
        abort(403)
    flash(on_text if on else off_text, "success")
    return redirect(url_for("board.thread", thread_id=thread.id))


@bp.post("/t/<int:thread_id>/lock")
@login_required
def lock(thread_id: int):
    return _toggle(thread_id, moderation.set_locked, _("Thread locked: only moderators can reply."), _("Thread unlocked."))


@bp.post("/t/<int:thread_id>/pin")
@login_required
def pin(thread_id: int):
    return _toggle(thread_id, moderation.set_pinned, _("Thread pinned to the top of its space."), _("Thread unpinned."))


@bp.post("/t/<int:thread_id>/hide")
@login_required
def hide(thread_id: int):
    return _toggle(thread_id, moderation.set_hidden, _("Thread hidden: only employees see it now."),
                   _("Thread visible again."))


def _move_choices(thread: Thread) -> list[SelectChoice]:
    """Where the thread is now (the form starts there: a move is never one click on another space), then the
    spaces this moderator may move it to."""
    return [SelectChoice(thread.space_id, _("%(name)s (where it is now)", name=thread.space.name))] + [
        SelectChoice(s.id, s.name) for s in moderation.movable_spaces(current_user, thread)]


def _moderate_page(thread: Thread, status: int = 200, **forms):
    move_form = forms.get("move_form") or MoveForm(space=thread.space_id)
    move_form.space.choices = _move_choices(thread)
    visibility_form = forms.get("visibility_form") or VisibilityForm(visibility=thread.visibility.value)
    return render_template("moderation/moderate.html", thread=thread, move_form=move_form,
                           visibility_form=visibility_form, merge_form=forms.get("merge_form") or MergeForm(),
                           toggle=ToggleForm()), status


@bp.get("/t/<int:thread_id>/moderate")
@login_required
def moderate(thread_id: int):
    """The moderation page of a thread: move, change visibility, merge (lock/pin/hide are buttons)."""
    return _moderate_page(_moderated_thread(thread_id))


@bp.post("/t/<int:thread_id>/move")
@login_required
def move(thread_id: int):
    thread = _moderated_thread(thread_id)
    form = MoveForm()
    form.space.choices = _move_choices(thread)
    if form.validate_on_submit():
        if form.space.data == thread.space_id:
            flash(_('The thread is already in %(name)s: nothing moved.', name=thread.space.name), "info")
            return redirect(url_for("board.thread", thread_id=thread.id))
        try:
            moderation.move(current_user, thread, catalog.space(form.space.data))
        except ValidationFailed as exc:
            _form_error(form, exc)
        else:
            flash(_('Moved to %(name)s.', name=thread.space.name), "success")
            return redirect(url_for("board.thread", thread_id=thread.id))
    return _moderate_page(thread, 400, move_form=form)


@bp.post("/t/<int:thread_id>/visibility")
@login_required
def visibility(thread_id: int):
    """Change visibility; making a thread public asks for an explicit confirmation first."""
    thread = _moderated_thread(thread_id)
    form = VisibilityForm()
    if form.validate_on_submit():
        try:
            moderation.change_visibility(current_user, thread, form.visibility.data, bool(form.confirm_public.data))
        except ValidationFailed as exc:
            _form_error(form, exc)
        else:
            flash(_("Visibility changed."), "success")
            return redirect(url_for("board.thread", thread_id=thread.id))
    return _moderate_page(thread, 400, visibility_form=form)


@bp.post("/t/<int:thread_id>/merge")
@login_required
def merge(thread_id: int):
    """Merge this thread (a duplicate) into the target; its URL then redirects there."""
    thread = _moderated_thread(thread_id)
    form = MergeForm()
    if form.validate_on_submit():
        target = pages.visible_thread(current_user, form.target.data)
        if target is None:
            form.target.errors.append(_("No thread with that number (that you can see)."))
        else:
            try:
                moderation.merge(current_user, thread, target)
            except ValidationFailed as exc:
                _form_error(form, exc)
            else:
                flash(_("Merged: the replies moved here and the old address leads here."), "success")
                return redirect(url_for("board.thread", thread_id=target.id))
    return _moderate_page(thread, 400, merge_form=form)


# --- admin: audit log, space moderators, new-member limits ---------------------------------------

def _admin_only() -> None:
    if not permissions.can_administer(current_user):
        abort(403)


@bp.get("/admin/audit")
@login_required
def audit_log():
    """Every moderation and admin action, newest first, filterable by action, actor and target."""
    if not permissions.can_view_audit(current_user):
        abort(403)
    # NUL cannot reach PostgreSQL text; such filters simply match nothing useful.
    filters = {key: request.args.get(key, "").replace("\x00", "")[:size]
               for key, size in (("action", 60), ("actor", 40), ("target_type", 40))}
    target_id = request.args.get("target_id", "")
    target = int(target_id) if target_id.isdigit() and len(target_id) < 10 else None
    page = page_of(audit.entries_query(**filters, target_id=target), page_number(), 50)
    return render_template("moderation/audit.html", page=page, filters=filters, target_id=target,
                           actions=audit.action_names(), change_lines=audit.change_lines,
                           summary_text=audit.summary_text)


@bp.route("/admin/space-moderators", methods=["GET", "POST"])
@login_required
def space_moderators():
    """Admins make employees moderators of single spaces."""
    _admin_only()
    form = SpaceModeratorForm()
    form.space.choices = [SelectChoice(s.id, s.name) for s in moderation.spaces_in_order()]
    form.user.choices = [SelectChoice(u.id, f"{u.display_name} ({u.username})") for u in assignable_employees()]
    if form.validate_on_submit():
        try:
            moderation.add_space_moderator(current_user, catalog.space(form.space.data),
                                           org_service.user(form.user.data))
        except ValidationFailed as exc:
            _form_error(form, exc)
        else:
            flash(_("Space moderator added."), "success")
            return redirect(url_for("moderation.space_moderators"))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/space_moderators.html", form=form, rows=moderation.space_moderators(),
                           remove_form=ToggleForm()), status


@bp.post("/admin/space-moderators/<int:space_moderator_id>/delete")
@login_required
def remove_space_moderator(space_moderator_id: int):
    _admin_only()
    row = or_404(moderation.space_moderator(_row_id(space_moderator_id)))
    moderation.remove_space_moderator(current_user, row)
    flash(_("Space moderator removed."), "success")
    return redirect(url_for("moderation.space_moderators"))


@bp.route("/admin/limits", methods=["GET", "POST"])
@login_required
def new_user_limits():
    """The first-hours limits on new members' threads and links."""
    _admin_only()
    form = LimitsForm(data=vars(limits.current()) if request.method == "GET" else None)
    if form.validate_on_submit():
        limits.save(current_user, form.new_user_hours.data, form.new_user_max_threads.data,
                    form.new_user_max_links.data)
        flash(_("New-member limits saved."), "success")
        return redirect(url_for("moderation.new_user_limits"))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/limits.html", form=form), status
