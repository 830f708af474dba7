"""Playbook pages: the list, one playbook, promoting a pattern, editing, revisions, "worked for us too".

Thin: a playbook the user may not see answers 404 like a missing one; writing is for leads (403).
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..clock import utcnow
from ..forms.playbooks import PlaybookConfirmForm, PlaybookForm
from ..permissions import PermissionDenied
from ..ratelimits import limit_posting
from ..services.board import versions
from ..services.board.deflection import deflection_stats
from ..services.board.pages import clamp_page
from ..services.board.threads import ValidationFailed
from ..services.orgs import catalog
from ..services.orgs import organisations as org_service
from ..services.patterns import playbooks as service

if TYPE_CHECKING:
    from ..models import Playbook, Thread

bp = Blueprint("playbooks", __name__, url_prefix="/playbooks")


@bp.before_request
def _readers_only():
    if not current_user.is_authenticated and not current_app.config.get("PUBLIC_READ"):
        return current_app.login_manager.unauthorized()
    return None


@bp.app_context_processor
def _version_notes() -> dict:
    # Thread and playbook pages say which versions an answer was confirmed on, and which of the reader's not.
    return {"version_notes": lambda subject: versions.notes_for(current_user, subject)}


def _playbook_or_404(playbook_id: int) -> Playbook:
    playbook = service.visible_playbook(current_user, playbook_id)
    if playbook is None:
        abort(404)
    return playbook


def _patterns_linked() -> bool:
    # The patterns pages come from their own blueprint; link to them only where they exist.
    return "patterns.show" in current_app.view_functions


@bp.route("/")
def index():
    """Visible playbooks, most recently updated first; leads also see the deflection figures."""
    page = service.list_playbooks(current_user, clamp_page(request.args.get("page")), current_app.config["PAGE_SIZE"])
    stats = None
    if permissions.is_lead(current_user):
        stats = {_("All time"): deflection_stats(),
                 _("Last %(num)d days", num=30): deflection_stats(since=utcnow() - timedelta(days=30))}
    review = versions.newest_version() if permissions.can_edit_playbook(current_user) else None
    return render_template("playbooks/index.html", playbooks=page, stats=stats, review_version=review)


@bp.route("/review/<int:version_id>")
def review(version_id: int):
    """For leads: the most-used playbooks about a version's product not yet confirmed on that version."""
    if not permissions.can_edit_playbook(current_user):
        abort(403)
    version = catalog.version(version_id)
    if version is None:
        abort(404)
    return render_template("playbooks/review.html", version=version, rows=versions.review_list(version))


@bp.route("/<int:playbook_id>")
def show(playbook_id: int):
    playbook = _playbook_or_404(playbook_id)
    form = PlaybookConfirmForm()
    form.deployment.choices = [(d.id, d.name) for d in service.confirmable_deployments(current_user, playbook)]
    return render_template(
        "playbooks/show.html", playbook=playbook, evidence=service.visible_evidence(current_user, playbook),
        replications=service.replication_counts([playbook.id]).get(playbook.id, 0), confirm_form=form,
        patterns_linked=_patterns_linked())


def _evidence_choices(form: PlaybookForm, candidates, linked: list[Thread]) -> None:
    labels = {c.thread.id: f"{c.thread.title} — {c.confirmations} confirmation{'' if c.confirmations == 1 else 's'}"
              for c in candidates}
    for thread in linked:
        labels.setdefault(thread.id, thread.title)
    form.evidence.choices = list(labels.items())


def _save(form: PlaybookForm, save):
    """Validate and call ``save(input)``; domain refusals become 403 or form errors. None when not saved."""
    if not form.validate_on_submit():
        return None
    try:
        return save(form.to_input())
    except PermissionDenied:
        abort(403)
    except ValidationFailed as exc:
        getattr(form, exc.field or "title", form.title).errors.append(exc.message)
    return None


@bp.route("/new", methods=["GET", "POST"])
@login_required
@limit_posting
def new():
    """Promote a pattern (``?pattern=<id>``) to a playbook, or write one from scratch."""
    if not permissions.can_edit_playbook(current_user):
        abort(403)
    pattern = service.pattern_by_id(request.args.get("pattern", type=int))
    if request.args.get("pattern") and pattern is None:
        abort(404)
    form = PlaybookForm()
    draft, candidates = service.draft_from_pattern(pattern) if pattern is not None else (service.PlaybookInput(), [])
    _evidence_choices(form, candidates, [])
    if request.method == "GET":
        form.fill(draft)
    created = _save(form, lambda data: service.create_playbook(current_user, data, pattern))
    if created is not None:
        flash(_("Playbook published."), "success")
        return redirect(url_for("playbooks.show", playbook_id=created.id))
    status = 400 if request.method == "POST" else 200
    return render_template("playbooks/form.html", form=form, playbook=None, pattern=pattern,
                           patterns_linked=_patterns_linked()), status


@bp.route("/<int:playbook_id>/edit", methods=["GET", "POST"])
@login_required
@limit_posting
def edit(playbook_id: int):
    playbook = _playbook_or_404(playbook_id)
    if not permissions.can_edit_playbook(current_user, playbook):
        abort(403)
    form = PlaybookForm()
    candidates = []
    if playbook.pattern is not None:
        candidates = service.evidence_candidates(service.member_threads(playbook.pattern))
    _evidence_choices(form, candidates, [e.thread for e in playbook.evidence])
    if request.method == "GET":
        form.fill(service.PlaybookInput(
            title=playbook.title, problem_md=playbook.problem_md, steps_md=playbook.steps_md,
            applies_to=dict(playbook.applies_to or {}), visibility=playbook.visibility,
            evidence_ids=[e.thread_id for e in playbook.evidence]))
    changed = _save(form, lambda data: service.update_playbook(current_user, playbook, data))
    if changed is not None:
        flash(_("Playbook updated.") if changed else _("Saved (the text did not change)."), "success")
        return redirect(url_for("playbooks.show", playbook_id=playbook.id))
    status = 400 if request.method == "POST" else 200
    return render_template("playbooks/form.html", form=form, playbook=playbook, pattern=playbook.pattern,
                           patterns_linked=_patterns_linked()), status


@bp.route("/<int:playbook_id>/revisions")
def revisions(playbook_id: int):
    playbook = _playbook_or_404(playbook_id)
    return render_template("playbooks/revisions.html", playbook=playbook,
                           revisions=service.revisions_of(playbook))


@bp.route("/<int:playbook_id>/confirm", methods=["POST"])
@login_required
@limit_posting
def confirm(playbook_id: int):
    """'Worked for us too' with one of the organisation's deployments: the replication count."""
    playbook = _playbook_or_404(playbook_id)
    if not permissions.can_confirm_playbook(current_user, playbook):
        abort(403)
    form = PlaybookConfirmForm()
    form.deployment.choices = [(d.id, d.name) for d in service.confirmable_deployments(current_user, playbook)]
    if not form.validate_on_submit():
        flash(_("Pick one of your deployments that has not confirmed this playbook yet."), "error")
        return redirect(url_for("playbooks.show", playbook_id=playbook.id))
    try:
        service.confirm_playbook(current_user, playbook, org_service.deployment(form.deployment.data),
                                 form.note.data or "")
    except PermissionDenied:
        abort(403)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("Thanks — your confirmation is recorded."), "success")
    return redirect(url_for("playbooks.show", playbook_id=playbook.id, _anchor="replications"))
