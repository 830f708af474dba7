"""Admin pages: the product catalog, organisations and engagements, spaces, users' flags and the mail outbox."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields import SelectChoice

from .. import permissions
from ..extensions import login_manager
from ..forms.admin import (
    EngagementForm,
    OrganisationEditForm,
    OrganisationForm,
    ProductForm,
    SpaceForm,
    UserFlagsForm,
    VersionForm,
)
from ..services import background
from ..services.mail import outbox as mail_outbox
from ..services.orgs import catalog
from ..services.orgs import organisations as org_service
from ..services.orgs.catalog import ValidationFailed
from ..services.paging import page_of
from .lookup import or_404, page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    """Anonymous visitors are sent to sign in; signed-in non-admins get a 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.can_administer(current_user):
        abort(403)
    return None


def _apply_error(form, exc: ValidationFailed) -> None:
    """Show a domain error on its field, or above the form when it belongs to no field."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def _page_size() -> int:
    return current_app.config["PAGE_SIZE"]


@bp.get("/")
def index():
    return render_template("admin/index.html", counts=org_service.admin_counts())


# --- catalog -------------------------------------------------------------------------------------

@bp.get("/products")
def products():
    return render_template("admin/products.html", products=catalog.list_products())


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = catalog.create_product(form.name.data, form.description.data or "", form.slug.data or "")
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_('Product “%(name)s” added. Now add its versions.', name=product.name), "success")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template("admin/form.html", form=form, title=_("New product"), back=url_for("admin.products"))


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
def edit_product(product_id: int):
    product = or_404(catalog.product(product_id))
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            catalog.update_product(product, form.name.data, form.description.data or "", form.slug.data or "")
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template("admin/product.html", form=form, product=product)


@bp.route("/products/<int:product_id>/versions/new", methods=["GET", "POST"])
def new_version(product_id: int):
    product = or_404(catalog.product(product_id))
    form = VersionForm()
    if form.validate_on_submit():
        try:
            catalog.create_version(product, form.name.data, form.released_on.data, form.position.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_('%(name)s %(value)s added.', name=product.name, value=form.name.data.strip()), "success")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template("admin/form.html", form=form, title=_('New version of %(name)s', name=product.name),
                           back=url_for("admin.edit_product", product_id=product.id))


@bp.route("/versions/<int:version_id>", methods=["GET", "POST"])
def edit_version(version_id: int):
    version = or_404(catalog.version(version_id))
    form = VersionForm(obj=version)
    if form.validate_on_submit():
        try:
            catalog.update_version(version, form.name.data, form.released_on.data, form.position.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_("Version saved."), "success")
            return redirect(url_for("admin.edit_product", product_id=version.product_id))
    return render_template("admin/form.html", form=form, title=_('Edit %(label)s', label=version.label),
                           back=url_for("admin.edit_product", product_id=version.product_id))


# --- organisations and engagements ---------------------------------------------------------------

@bp.get("/organisations")
def organisations():
    kind_arg = request.args.get("kind", "")
    kind = org_service.org_kind(kind_arg)
    q = request.args.get("q", "")[:100]
    page = page_of(org_service.organisations_query(kind, q), page_number(), _page_size())
    return render_template("admin/organisations.html", page=page, kind=kind, kinds=org_service.org_kinds(), q=q,
                           counts=org_service.member_counts([o.id for o in page.items]))


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = org_service.create_organisation(form.name.data, form.kind.data,
                                                           form.description.data or "")
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_('Organisation “%(name)s” created.', name=organisation.name), "success")
            return redirect(url_for("admin.edit_organisation", organisation_id=organisation.id))
    return render_template("admin/form.html", form=form, title=_("New organisation"),
                           back=url_for("admin.organisations"))


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    organisation = or_404(org_service.organisation(organisation_id))
    form = OrganisationEditForm(obj=organisation)
    if form.validate_on_submit():
        try:
            org_service.update_organisation(organisation, form.name.data, form.description.data or "")
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_("Organisation saved."), "success")
            return redirect(url_for("admin.edit_organisation", organisation_id=organisation.id))
    partners, customers = org_service.engaged_organisations(organisation)
    return render_template("admin/organisation.html", form=form, organisation=organisation,
                           partners=partners, customers=customers)


def _engagement_form() -> EngagementForm:
    form = EngagementForm()
    partners, customers = org_service.engagement_choices()
    form.partner.choices = [SelectChoice(0, _("— choose a partner firm —"))] + [SelectChoice(i, n) for i, n in partners]
    form.customer.choices = [SelectChoice(0, _("— choose a customer —"))] + [SelectChoice(i, n) for i, n in customers]
    return form


@bp.route("/engagements", methods=["GET", "POST"])
def engagements():
    """List engagements (partner -> customer) and add one."""
    form = _engagement_form()
    if form.validate_on_submit():
        try:
            engagement = org_service.add_engagement(form.partner.data, form.customer.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_('%(name)s is now engaged with %(name2)s.', name=engagement.partner.name, name2=engagement.customer.name), "success")
            return redirect(url_for("admin.engagements"))
    page = page_of(org_service.engagements_query(), page_number(), _page_size())
    return render_template("admin/engagements.html", form=form, page=page)


@bp.post("/engagements/<int:engagement_id>/delete")
def remove_engagement(engagement_id: int):
    engagement = or_404(org_service.engagement(engagement_id))
    label = _("%(partner)s is no longer engaged with %(customer)s.", partner=engagement.partner.name,
              customer=engagement.customer.name)
    org_service.remove_engagement(engagement)
    flash(label, "success")
    return redirect(url_for("admin.engagements"))


# --- spaces --------------------------------------------------------------------------------------

@bp.get("/spaces")
def spaces():
    return render_template("admin/spaces.html", spaces=catalog.list_spaces())


@bp.route("/spaces/new", methods=["GET", "POST"])
def new_space():
    form = SpaceForm()
    if form.validate_on_submit():
        try:
            space = catalog.create_space(form.name.data, form.slug.data or "", form.description.data or "",
                                         form.default_visibility.data, form.position.data,
                                         staff_posts_only=form.staff_posts_only.data, ideas=form.ideas.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_('Space “%(name)s” created.', name=space.name), "success")
            return redirect(url_for("admin.spaces"))
    return render_template("admin/form.html", form=form, title=_("New space"), back=url_for("admin.spaces"))


@bp.route("/spaces/<int:space_id>", methods=["GET", "POST"])
def edit_space(space_id: int):
    space = or_404(catalog.space(space_id))
    form = SpaceForm(obj=space)
    if request.method == "GET":
        form.default_visibility.data = space.default_visibility.value
        form.ideas.data = catalog.is_ideas_space(space)
    if form.validate_on_submit():
        try:
            catalog.update_space(space, form.name.data, form.slug.data or "", form.description.data or "",
                                 form.default_visibility.data, form.position.data,
                                 staff_posts_only=form.staff_posts_only.data, ideas=form.ideas.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_("Space saved."), "success")
            return redirect(url_for("admin.spaces"))
    return render_template("admin/form.html", form=form, title=_('Edit space “%(name)s”', name=space.name),
                           back=url_for("admin.spaces"))


# --- users ---------------------------------------------------------------------------------------

@bp.get("/users")
def users():
    q = request.args.get("q", "")[:100]
    page = page_of(org_service.users_query(q), page_number(), _page_size())
    return render_template("admin/users.html", page=page, q=q)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = or_404(org_service.user(user_id))
    form = UserFlagsForm(obj=user)
    if form.validate_on_submit():
        try:
            org_service.set_user_flags(user, current_user, is_org_admin=form.is_org_admin.data,
                                       is_lead=form.is_lead.data, is_moderator=form.is_moderator.data,
                                       is_admin=form.is_admin.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(_('Flags of %(display_name)s saved.', display_name=user.display_name), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user.html", form=form, user=user)


@bp.post("/users/<int:user_id>/active")
def set_user_active(user_id: int):
    """Deactivate (field active=0, also signing the user out everywhere) or reactivate (active=1)."""
    user = or_404(org_service.user(user_id))
    active = request.form.get("active") == "1"
    try:
        org_service.set_user_active(user, current_user, active)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s reactivated.", name=user.display_name) if active
              else _("%(name)s deactivated and signed out.", name=user.display_name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


# --- mail outbox ---------------------------------------------------------------------------------

@bp.get("/mail")
def mail():
    """Every message the forum sent or will send: queued, sent, failed, held or cancelled, with the reason."""
    status = request.args.get("status") or None
    status = status if status in mail_outbox.STATUSES else None
    page = mail_outbox.outbox_page(status, page_number(), _page_size())
    return render_template("admin/mail.html", page=page, status=status, counts=mail_outbox.status_counts(),
                           mail_enabled=mail_outbox.mail_enabled())


@bp.get("/mail/<int:message_id>")
def mail_message(message_id: int):
    """One message as its recipient gets it (a one-time link withheld)."""
    return render_template("admin/mail_message.html", preview=or_404(mail_outbox.preview(message_id)))


@bp.post("/mail/<int:message_id>/retry")
def retry_mail(message_id: int):
    """Send a failed or cancelled message again (after the mail server or the address was fixed)."""
    job = mail_outbox.retry(message_id)
    if job is None:
        abort(404)
    background.dispatch(job)
    flash(_("The message is queued again."), "success")
    return redirect(url_for("admin.mail_message", message_id=message_id))


@bp.get("/mail/<int:message_id>/html")
def mail_message_html(message_id: int):
    """The HTML body alone, for the preview's frame: sandboxed, so nothing in it runs or loads."""
    preview = or_404(mail_outbox.preview(message_id))
    response = current_app.response_class(preview.body_html or "<p>(no HTML part)</p>", mimetype="text/html")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    return response
