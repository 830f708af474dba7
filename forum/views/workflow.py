"""Workflow pages for employees: internal discussions linked to member threads, assignments of escalated
threads, "My queue" and the leads' overdue list."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields import SelectChoice

from .. import permissions
from ..clock import utcnow
from ..forms.moderation import AssignForm, InternalDiscussionForm
from ..permissions import PermissionDenied
from ..ratelimits import limit_posting
from ..services.board import pages, workflow
from ..services.board.threads import ValidationFailed
from ..services.orgs import organisations as org_service

bp = Blueprint("workflow", __name__)


def _employee_thread(thread_id: int, allowed) -> object:
    thread = pages.visible_thread(current_user, thread_id)
    if thread is None:
        abort(404)
    if not allowed(current_user, thread):
        abort(403)
    return thread


@bp.route("/t/<int:thread_id>/internal-discussion", methods=["GET", "POST"])
@login_required
@limit_posting
def internal_discussion(thread_id: int):
    """Open (or link) an employees-only discussion about a member thread."""
    thread = _employee_thread(thread_id, permissions.can_open_internal_discussion)
    form = InternalDiscussionForm()
    if request.method == "GET":
        form.title.data = f"Internal: {thread.title}"[:200]
    if form.validate_on_submit():
        try:
            if form.existing.data:
                internal = pages.visible_thread(current_user, form.existing.data)
                if internal is None:
                    raise ValidationFailed(_("No thread with that number."), "existing")
                workflow.link_existing(current_user, thread, internal)
            else:
                internal = workflow.open_internal_discussion(current_user, thread, form.title.data or "",
                                                             form.body.data or "")
        except PermissionDenied:
            abort(403)
        except ValidationFailed as exc:
            getattr(form, exc.field if exc.field in ("title", "body") else "existing").errors.append(exc.message)
        else:
            flash(_("Internal discussion linked. Only employees see the link."), "success")
            return redirect(url_for("board.thread", thread_id=internal.id))
    status = 400 if request.method == "POST" else 200
    return render_template("workflow/internal.html", form=form, thread=thread), status


@bp.route("/t/<int:thread_id>/assign", methods=["GET", "POST"])
@login_required
def assign(thread_id: int):
    """Give an escalated thread to an employee with a due date."""
    thread = _employee_thread(thread_id, permissions.can_assign)
    form = AssignForm()
    form.assignee.choices = [SelectChoice(u.id, f"{u.display_name} ({u.username})") for u in workflow.assignable_employees()]
    current = workflow.for_thread(current_user, thread).assignment
    if request.method == "GET":
        form.assignee.data = current.assignee_id if current else current_user.id
        form.due_at.data = current.due_at if current else workflow.default_due().replace(second=0, microsecond=0)
    if form.validate_on_submit():
        try:
            workflow.assign(current_user, thread, org_service.user(form.assignee.data), form.due_at.data)
        except PermissionDenied:
            abort(403)
        except ValidationFailed as exc:
            form.assignee.errors.append(exc.message)
        else:
            flash(_("Assigned."), "success")
            return redirect(url_for("board.thread", thread_id=thread.id))
    status = 400 if request.method == "POST" else 200
    return render_template("workflow/assign.html", form=form, thread=thread, current=current), status


@bp.get("/queue")
@login_required
def my_queue():
    """Escalated threads assigned to me, soonest due first, and those nobody has taken."""
    if not permissions.can_view_queue(current_user):
        abort(403)
    return render_template("workflow/queue.html", items=workflow.my_queue(current_user), now=utcnow(),
                           unassigned=workflow.unassigned_escalations(current_user))


@bp.get("/queue/overdue")
@login_required
def overdue():
    """Escalations past their due date (for leads)."""
    if not permissions.can_view_overdue(current_user):
        abort(403)
    now = utcnow()
    return render_template("workflow/overdue.html", items=workflow.overdue(current_user, now), now=now,
                           hours=workflow.DEFAULT_DUE_HOURS,
                           stale=workflow.unassigned_escalations(
                               current_user, idle_since=now - timedelta(hours=workflow.DEFAULT_DUE_HOURS)))
