"""Organisation pages: the directory, one organisation, its deployment profiles and invitation links."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..forms.orgs import TOPOLOGY_SUGGESTIONS, DeploymentForm, InvitationForm, grouped_choices
from ..services.orgs import organisations as org_service
from ..services.orgs.accounts import create_invitation
from ..services.orgs.catalog import ValidationFailed, version_choices
from ..services.paging import page_of
from .lookup import or_404, page_number

if TYPE_CHECKING:
    from ..models import Deployment, Organisation

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

MEMBERS_PAGE_SIZE = 50


def _organisation(slug: str) -> Organisation:
    return or_404(org_service.organisation_by_slug(slug))


def _deployment(organisation: Organisation, deployment_id: int, *, edit: bool) -> Deployment:
    """The deployment, 404 if missing or not viewable, 403 if viewable but not editable."""
    deployment = org_service.deployment(deployment_id)
    if deployment is None or deployment.organisation_id != organisation.id:
        abort(404)
    _require_deployment_access(organisation, edit=edit)
    return deployment


def _require_deployment_access(organisation: Organisation, *, edit: bool) -> None:
    if not permissions.can_view_deployments(current_user, organisation):
        abort(404)  # those who may not even see the profiles learn nothing about them
    if edit and not permissions.can_edit_deployments(current_user, organisation):
        abort(403)


def _form_error(form, exc: ValidationFailed) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        flash(exc.message, "error")


@bp.get("/")
@login_required
def index():
    """Every organisation, optionally of one kind."""
    kind_arg = request.args.get("kind", "")
    kind = org_service.org_kind(kind_arg)
    page = page_of(org_service.organisations_query(kind), page_number(), current_app.config["PAGE_SIZE"])
    counts = org_service.member_counts([o.id for o in page.items])
    return render_template("orgs/index.html", page=page, kind=kind, kinds=org_service.org_kinds(), counts=counts)


@bp.get("/<slug>")
@login_required
def show(slug: str):
    """One organisation: description, members, engagements and (where allowed) deployments."""
    organisation = _organisation(slug)
    members = page_of(org_service.members_query(organisation), page_number(), MEMBERS_PAGE_SIZE)
    partners, customers = org_service.engaged_organisations(organisation)
    can_view_deployments = permissions.can_view_deployments(current_user, organisation)
    deployments = organisation.deployments if can_view_deployments else []
    return render_template(
        "orgs/show.html", organisation=organisation, members=members, partners=partners, customers=customers,
        can_view_deployments=can_view_deployments, deployments=deployments,
        can_edit_deployments=permissions.can_edit_deployments(current_user, organisation),
        can_invite=permissions.can_invite(current_user, organisation))


def _deployment_form(deployment: Deployment | None = None) -> DeploymentForm:
    form = DeploymentForm(obj=deployment)
    if deployment is not None and request.method == "GET":
        form.product_version.data = deployment.product_version_id
        form.hosting.data = deployment.hosting.value
        form.environment.data = deployment.environment.value
        form.integrations.data = ", ".join(deployment.integrations or [])
    form.product_version.choices = grouped_choices(version_choices())
    return form


def _profile(form: DeploymentForm) -> org_service.DeploymentProfile:
    return org_service.DeploymentProfile(
        name=form.name.data or "", product_version_id=form.product_version.data, hosting=form.hosting.data,
        environment=form.environment.data, edition=form.edition.data or "", database=form.database.data or "",
        operating_system=form.operating_system.data or "", topology=form.topology.data or "",
        integrations=form.integrations.data or "", go_live=form.go_live.data, size_users=form.size_users.data)


def _render_deployment_form(organisation: Organisation, form: DeploymentForm, deployment: Deployment | None):
    return render_template("orgs/deployment_form.html", organisation=organisation, form=form,
                           deployment=deployment, topology_suggestions=TOPOLOGY_SUGGESTIONS)


@bp.route("/<slug>/deployments/new", methods=["GET", "POST"])
@login_required
def new_deployment(slug: str):
    organisation = _organisation(slug)
    _require_deployment_access(organisation, edit=True)
    form = _deployment_form()
    if form.validate_on_submit():
        try:
            deployment = org_service.create_deployment(organisation, _profile(form))
        except ValidationFailed as exc:
            _form_error(form, exc)
        else:
            flash(_('Deployment “%(name)s” added.', name=deployment.name), "success")
            return redirect(url_for("orgs.show", slug=organisation.slug, _anchor="deployments"))
    return _render_deployment_form(organisation, form, None)


@bp.route("/<slug>/deployments/<int:deployment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_deployment(slug: str, deployment_id: int):
    organisation = _organisation(slug)
    deployment = _deployment(organisation, deployment_id, edit=True)
    form = _deployment_form(deployment)
    if form.validate_on_submit():
        try:
            org_service.update_deployment(deployment, _profile(form))
        except ValidationFailed as exc:
            _form_error(form, exc)
        else:
            flash(_('Deployment “%(name)s” saved.', name=deployment.name), "success")
            return redirect(url_for("orgs.show", slug=organisation.slug, _anchor="deployments"))
    return _render_deployment_form(organisation, form, deployment)


@bp.route("/<slug>/deployments/<int:deployment_id>/delete", methods=["GET", "POST"])
@login_required
def delete_deployment(slug: str, deployment_id: int):
    """GET asks for confirmation; POST deletes."""
    organisation = _organisation(slug)
    deployment = _deployment(organisation, deployment_id, edit=True)
    if request.method == "POST":
        name = deployment.name
        org_service.delete_deployment(deployment)
        flash(_('Deployment “%(name)s” deleted. Threads that mentioned it keep their snapshot.', name=name), "success")
        return redirect(url_for("orgs.show", slug=organisation.slug, _anchor="deployments"))
    threads, confirmations = org_service.deployment_usage(deployment)
    return render_template("orgs/deployment_delete.html", organisation=organisation, deployment=deployment,
                           threads=threads, confirmations=confirmations)


def _require_invite(organisation: Organisation) -> None:
    if not permissions.can_invite(current_user, organisation):
        abort(403)


@bp.route("/<slug>/invitations", methods=["GET", "POST"])
@login_required
def invitations(slug: str):
    """Create invitation links into this organisation and see the pending ones."""

    organisation = _organisation(slug)
    _require_invite(organisation)
    form = InvitationForm()
    new_link = None
    if form.validate_on_submit():
        _invitation, token = create_invitation(
            organisation, current_user, email=(form.email.data or "").strip().lower(),
            grants_org_admin=bool(form.grants_org_admin.data))
        # The token is stored only as a hash, so this response is the one chance to copy the link.
        new_link = url_for("auth.register", token=token, _external=True)
        form = InvitationForm(formdata=None)
    response = make_response(render_template(
        "orgs/invitations.html", organisation=organisation, form=form, new_link=new_link,
        pending=org_service.pending_invitations(organisation),
        days=current_app.config["INVITATION_DAYS"]))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(slug: str, invitation_id: int):
    organisation = _organisation(slug)
    _require_invite(organisation)
    invitation = org_service.invitation(invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        abort(404)
    try:
        org_service.revoke_invitation(invitation)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("Invitation revoked: its link no longer works."), "success")
    return redirect(url_for("orgs.invitations", slug=organisation.slug))
