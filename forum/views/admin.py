"""Admin pages: the product catalog, organisations and engagements, spaces, and users' flags."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields import SelectChoice

from .. import permissions
from ..extensions import db, login_manager
from ..forms.admin import (
    EngagementForm,
    OrganisationEditForm,
    OrganisationForm,
    ProductForm,
    SpaceForm,
    UserFlagsForm,
    VersionForm,
)
from ..models import Engagement, Organisation, OrgKind, Product, ProductVersion, Space, User
from ..services.orgs import catalog
from ..services.orgs import organisations as org_service
from ..services.orgs.catalog import ValidationFailed

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
    counts = {
        "products": db.session.execute(db.select(db.func.count(Product.id))).scalar_one(),
        "organisations": db.session.execute(db.select(db.func.count(Organisation.id))).scalar_one(),
        "engagements": db.session.execute(db.select(db.func.count(Engagement.id))).scalar_one(),
        "spaces": db.session.execute(db.select(db.func.count(Space.id))).scalar_one(),
        "users": db.session.execute(db.select(db.func.count(User.id))).scalar_one(),
    }
    return render_template("admin/index.html", counts=counts)


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
            flash(f"Product “{product.name}” added. Now add its versions.", "success")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template("admin/form.html", form=form, title="New product", back=url_for("admin.products"))


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
def edit_product(product_id: int):
    product = db.get_or_404(Product, product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            catalog.update_product(product, form.name.data, form.description.data or "", form.slug.data or "")
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash("Product saved.", "success")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template("admin/product.html", form=form, product=product)


@bp.route("/products/<int:product_id>/versions/new", methods=["GET", "POST"])
def new_version(product_id: int):
    product = db.get_or_404(Product, product_id)
    form = VersionForm()
    if form.validate_on_submit():
        try:
            catalog.create_version(product, form.name.data, form.released_on.data, form.position.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(f"{product.name} {form.name.data.strip()} added.", "success")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template("admin/form.html", form=form, title=f"New version of {product.name}",
                           back=url_for("admin.edit_product", product_id=product.id))


@bp.route("/versions/<int:version_id>", methods=["GET", "POST"])
def edit_version(version_id: int):
    version = db.get_or_404(ProductVersion, version_id)
    form = VersionForm(obj=version)
    if form.validate_on_submit():
        try:
            catalog.update_version(version, form.name.data, form.released_on.data, form.position.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash("Version saved.", "success")
            return redirect(url_for("admin.edit_product", product_id=version.product_id))
    return render_template("admin/form.html", form=form, title=f"Edit {version.label}",
                           back=url_for("admin.edit_product", product_id=version.product_id))


# --- organisations and engagements ---------------------------------------------------------------

@bp.get("/organisations")
def organisations():
    kind_arg = request.args.get("kind", "")
    kind = OrgKind(kind_arg) if kind_arg in {k.value for k in OrgKind} else None
    q = request.args.get("q", "")[:100]
    page = db.paginate(org_service.organisations_query(kind, q), per_page=_page_size(), error_out=False)
    return render_template("admin/organisations.html", page=page, kind=kind, kinds=list(OrgKind), q=q,
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
            flash(f"Organisation “{organisation.name}” created.", "success")
            return redirect(url_for("admin.edit_organisation", organisation_id=organisation.id))
    return render_template("admin/form.html", form=form, title="New organisation",
                           back=url_for("admin.organisations"))


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationEditForm(obj=organisation)
    if form.validate_on_submit():
        try:
            org_service.update_organisation(organisation, form.name.data, form.description.data or "")
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash("Organisation saved.", "success")
            return redirect(url_for("admin.edit_organisation", organisation_id=organisation.id))
    partners = customers = []
    if organisation.kind is OrgKind.CUSTOMER:
        partners = org_service.engaged_partners(organisation)
    elif organisation.kind is OrgKind.PARTNER:
        customers = org_service.engaged_customers(organisation)
    return render_template("admin/organisation.html", form=form, organisation=organisation,
                           partners=partners, customers=customers)


def _engagement_form() -> EngagementForm:
    form = EngagementForm()
    names = db.session.execute(db.select(Organisation.id, Organisation.name, Organisation.kind).where(
        Organisation.kind.in_([OrgKind.PARTNER, OrgKind.CUSTOMER])).order_by(Organisation.name)).all()
    form.partner.choices = [SelectChoice(0, "— choose a partner firm —")] + [
        SelectChoice(i, n) for i, n, k in names if k is OrgKind.PARTNER]
    form.customer.choices = [SelectChoice(0, "— choose a customer —")] + [
        SelectChoice(i, n) for i, n, k in names if k is OrgKind.CUSTOMER]
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
            flash(f"{engagement.partner.name} is now engaged with {engagement.customer.name}.", "success")
            return redirect(url_for("admin.engagements"))
    page = db.paginate(org_service.engagements_query(), per_page=_page_size(), error_out=False)
    return render_template("admin/engagements.html", form=form, page=page)


@bp.post("/engagements/<int:engagement_id>/delete")
def remove_engagement(engagement_id: int):
    engagement = db.get_or_404(Engagement, engagement_id)
    label = f"{engagement.partner.name} is no longer engaged with {engagement.customer.name}."
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
                                         form.default_visibility.data, form.position.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(f"Space “{space.name}” created.", "success")
            return redirect(url_for("admin.spaces"))
    return render_template("admin/form.html", form=form, title="New space", back=url_for("admin.spaces"))


@bp.route("/spaces/<int:space_id>", methods=["GET", "POST"])
def edit_space(space_id: int):
    space = db.get_or_404(Space, space_id)
    form = SpaceForm(obj=space)
    if request.method == "GET":
        form.default_visibility.data = space.default_visibility.value
    if form.validate_on_submit():
        try:
            catalog.update_space(space, form.name.data, form.slug.data or "", form.description.data or "",
                                 form.default_visibility.data, form.position.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash("Space saved.", "success")
            return redirect(url_for("admin.spaces"))
    return render_template("admin/form.html", form=form, title=f"Edit space “{space.name}”",
                           back=url_for("admin.spaces"))


# --- users ---------------------------------------------------------------------------------------

@bp.get("/users")
def users():
    q = request.args.get("q", "")[:100]
    page = db.paginate(org_service.users_query(q), per_page=_page_size(), error_out=False)
    return render_template("admin/users.html", page=page, q=q)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserFlagsForm(obj=user)
    if form.validate_on_submit():
        try:
            org_service.set_user_flags(user, current_user, is_org_admin=form.is_org_admin.data,
                                       is_lead=form.is_lead.data, is_moderator=form.is_moderator.data,
                                       is_admin=form.is_admin.data)
        except ValidationFailed as exc:
            _apply_error(form, exc)
        else:
            flash(f"Flags of {user.display_name} saved.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user.html", form=form, user=user)


@bp.post("/users/<int:user_id>/active")
def set_user_active(user_id: int):
    """Deactivate (field active=0, also signing the user out everywhere) or reactivate (active=1)."""
    user = db.get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    try:
        org_service.set_user_active(user, current_user, active)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(f"{user.display_name} {'reactivated' if active else 'deactivated and signed out'}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))
