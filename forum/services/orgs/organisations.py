"""Organisations and the people in them: engagements, deployment profiles, invitations, user flags."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from sqlalchemy import Select, delete, func, or_, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from ... import labels
from ...extensions import db
from ...models import (
    Confirmation,
    Deployment,
    Engagement,
    Environment,
    Hosting,
    Invitation,
    Organisation,
    OrgKind,
    Product,
    ProductVersion,
    Space,
    Thread,
    User,
    utcnow,
)
from ..moderation import audit
from .accounts import revoke_sessions
from .catalog import ValidationFailed, commit_or_fail, name_taken, unique_slug

MAX_INTEGRATIONS = 20
INTEGRATION_MAX_LENGTH = 40


# --- organisations -------------------------------------------------------------------------------

def admin_counts() -> dict[str, int]:
    """How many products, organisations, engagements, spaces and users there are (the admin home page)."""
    return {name: db.session.execute(db.select(func.count(model.id))).scalar_one()
            for name, model in (("products", Product), ("organisations", Organisation), ("engagements", Engagement),
                                ("spaces", Space), ("users", User))}


def org_kind(value: str) -> OrgKind | None:
    """The organisation kind named ``value``, or None (no filter) for anything else."""
    return OrgKind(value) if value in {k.value for k in OrgKind} else None


def org_kinds() -> list[OrgKind]:
    return list(OrgKind)


def organisation(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def organisation_by_slug(slug: str) -> Organisation | None:
    """The organisation with this slug, or None (a NUL cannot be in a slug, and PostgreSQL refuses it)."""
    if "\x00" in slug:
        return None
    return db.session.execute(db.select(Organisation).filter_by(slug=slug)).scalar_one_or_none()


def engagement(engagement_id: int) -> Engagement | None:
    return db.session.get(Engagement, engagement_id)


def user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def deployment(deployment_id: int) -> Deployment | None:
    return db.session.get(Deployment, deployment_id)


def invitation(invitation_id: int) -> Invitation | None:
    return db.session.get(Invitation, invitation_id)


def engaged_organisations(organisation: Organisation) -> tuple[list[Organisation], list[Organisation]]:
    """(engaged partners, engaged customers): a customer has partners, a partner customers."""
    if organisation.kind is OrgKind.CUSTOMER:
        return engaged_partners(organisation), []
    if organisation.kind is OrgKind.PARTNER:
        return [], engaged_customers(organisation)
    return [], []


def engagement_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(partner firms, customers) by name, as (id, name): the choices of a new engagement."""
    names = db.session.execute(db.select(Organisation.id, Organisation.name, Organisation.kind).where(
        Organisation.kind.in_([OrgKind.PARTNER, OrgKind.CUSTOMER])).order_by(Organisation.name)).all()
    return ([(i, n) for i, n, k in names if k is OrgKind.PARTNER],
            [(i, n) for i, n, k in names if k is OrgKind.CUSTOMER])


def organisations_query(kind: OrgKind | None = None, search: str = "") -> Select:
    """Organisations by name, optionally of one kind or matching a name fragment (for db.paginate)."""
    query = db.select(Organisation).order_by(Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if search.strip():
        query = query.where(func.lower(Organisation.name).contains(search.strip().lower(), autoescape=True))
    return query


def member_counts(organisation_ids: list[int]) -> dict[int, int]:
    """Active members per organisation, in one query for a whole page."""
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        db.select(User.organisation_id, func.count(User.id))
        .where(User.organisation_id.in_(organisation_ids), User.active.is_(True))
        .group_by(User.organisation_id))
    return {org_id: count for org_id, count in rows}


def members_query(organisation: Organisation) -> Select:
    """The organisation's active members by name (for db.paginate)."""
    return (db.select(User).where(User.organisation_id == organisation.id, User.active.is_(True))
            .order_by(User.display_name, User.id))


def engaged_partners(organisation: Organisation) -> list[Organisation]:
    """Partner firms engaged with this customer."""
    return list(db.session.execute(
        db.select(Organisation).join(Engagement, Engagement.partner_id == Organisation.id)
        .where(Engagement.customer_id == organisation.id).order_by(Organisation.name)).scalars())


def engaged_customers(organisation: Organisation) -> list[Organisation]:
    """Customers this partner firm is engaged with."""
    return list(db.session.execute(
        db.select(Organisation).join(Engagement, Engagement.customer_id == Organisation.id)
        .where(Engagement.partner_id == organisation.id).order_by(Organisation.name)).scalars())


def create_organisation(name: str, kind: OrgKind | str, description: str = "") -> Organisation:
    """Create an organisation of a given kind; its slug comes from the name."""
    name = name.strip()
    if not name:
        raise ValidationFailed(gettext("An organisation needs a name."), "name")
    if name_taken(Organisation, name):
        raise ValidationFailed(gettext("An organisation called '%(name)s' already exists.", name=name), "name")
    try:
        kind = OrgKind(kind)
    except ValueError as exc:
        raise ValidationFailed(gettext("Choose vendor, customer or partner."), "kind") from exc
    organisation = Organisation(name=name, kind=kind, description=description.strip(),
                                slug=unique_slug(Organisation, name, 120))
    db.session.add(organisation)
    commit_or_fail(gettext("An organisation called '%(name)s' already exists.", name=name), "name")
    audit.record("organisation.create", organisation, commit=True)
    return organisation


def update_organisation(organisation: Organisation, name: str, description: str) -> Organisation:
    """Rename or re-describe an organisation. The slug stays, so links to it keep working."""
    name = name.strip()
    if not name:
        raise ValidationFailed(gettext("An organisation needs a name."), "name")
    if name_taken(Organisation, name, organisation.id):
        raise ValidationFailed(gettext("An organisation called '%(name)s' already exists.", name=name), "name")
    organisation.name, organisation.description = name, description.strip()
    audit.record("organisation.update", organisation)
    commit_or_fail(gettext("An organisation called '%(name)s' already exists.", name=name), "name")
    return organisation


# --- engagements ---------------------------------------------------------------------------------

def engagements_query() -> Select:
    """Every engagement, partner and customer loaded with it, by partner then customer name."""
    partner, customer = aliased(Organisation), aliased(Organisation)
    return (db.select(Engagement)
            .join(partner, Engagement.partner_id == partner.id)
            .join(customer, Engagement.customer_id == customer.id)
            .options(joinedload(Engagement.partner), joinedload(Engagement.customer))
            .order_by(partner.name, customer.name))


def add_engagement(partner_id: int, customer_id: int) -> Engagement:
    """Engage a partner firm with a customer; the kinds must be exactly partner -> customer."""
    partner = db.session.get(Organisation, partner_id)
    customer = db.session.get(Organisation, customer_id)
    if partner is None or partner.kind is not OrgKind.PARTNER:
        raise ValidationFailed(gettext("The first organisation must be a partner firm."), "partner")
    if customer is None or customer.kind is not OrgKind.CUSTOMER:
        raise ValidationFailed(gettext("The second organisation must be a customer."), "customer")
    exists = db.session.execute(db.select(Engagement.id).filter_by(
        partner_id=partner.id, customer_id=customer.id)).first()
    if exists:
        raise ValidationFailed(gettext('%(name)s is already engaged with %(name2)s.', name=partner.name, name2=customer.name), "customer")
    engagement = Engagement(partner_id=partner.id, customer_id=customer.id)
    db.session.add(engagement)
    commit_or_fail(gettext("%(name)s is already engaged with %(name2)s.", name=partner.name, name2=customer.name),
                   "customer")
    audit.record("engagement.add", engagement, summary=f"{partner.name} → {customer.name}", commit=True)
    return engagement


def remove_engagement(engagement: Engagement) -> None:
    """End an engagement: the partner stops seeing that customer's org-private threads at once."""
    audit.record("engagement.remove", engagement, before=audit.snapshot(engagement), after=None)
    db.session.delete(engagement)
    db.session.commit()


# --- deployment profiles -------------------------------------------------------------------------

@dataclass
class DeploymentProfile:
    """The editable fields of a deployment, as the form hands them over."""

    name: str
    product_version_id: int
    hosting: Hosting | str = Hosting.ON_PREMISES
    environment: Environment | str = Environment.PRODUCTION
    edition: str = ""
    database: str = ""
    operating_system: str = ""
    topology: str = ""
    integrations: str | list[str] = ""
    go_live: date | None = None
    size_users: int | None = None


def normalise_integrations(raw: str | list[str]) -> list[str]:
    """Comma-separated free tags -> trimmed, lowercased, single-spaced, de-duplicated, in input order."""
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    for part in parts:
        tag = re.sub(r"\s+", " ", str(part)).strip().lower()
        if not tag or tag in tags:
            continue
        if len(tag) > INTEGRATION_MAX_LENGTH:
            raise ValidationFailed(
                gettext("Each integration is at most %(INTEGRATION_MAX_LENGTH)s characters ('%(value)s…' is longer).", INTEGRATION_MAX_LENGTH=INTEGRATION_MAX_LENGTH, value=tag[:20]),
                "integrations")
        tags.append(tag)
    if len(tags) > MAX_INTEGRATIONS:
        raise ValidationFailed(gettext('At most %(MAX_INTEGRATIONS)s integrations.', MAX_INTEGRATIONS=MAX_INTEGRATIONS), "integrations")
    return tags


def _apply_profile(deployment: Deployment, profile: DeploymentProfile) -> None:
    if db.session.get(ProductVersion, profile.product_version_id) is None:
        raise ValidationFailed(gettext("Choose a product version from the catalog."), "product_version")
    if profile.size_users is not None and profile.size_users < 0:
        raise ValidationFailed(gettext("The number of users cannot be negative."), "size_users")
    name = profile.name.strip()
    if not name:
        raise ValidationFailed(gettext("Give the deployment a name."), "name")
    try:
        deployment.hosting = Hosting(profile.hosting)
        deployment.environment = Environment(profile.environment)
    except ValueError as exc:
        raise ValidationFailed(gettext("Unknown hosting or environment."), "hosting") from exc
    deployment.integrations = normalise_integrations(profile.integrations)
    deployment.name = name
    deployment.product_version_id = profile.product_version_id
    deployment.edition = profile.edition.strip()
    deployment.database = profile.database.strip()
    deployment.operating_system = profile.operating_system.strip()
    deployment.topology = re.sub(r"\s+", " ", profile.topology).strip()
    deployment.go_live = profile.go_live
    deployment.size_users = profile.size_users


def create_deployment(organisation: Organisation, profile: DeploymentProfile) -> Deployment:
    """Add a deployment profile to an organisation."""
    deployment = Deployment(organisation_id=organisation.id)
    _apply_profile(deployment, profile)
    db.session.add(deployment)
    db.session.commit()
    audit.record("deployment.create", deployment, commit=True)
    return deployment


def update_deployment(deployment: Deployment, profile: DeploymentProfile) -> Deployment:
    """Change a deployment profile; threads asked earlier keep their snapshot of the old one."""
    try:
        _apply_profile(deployment, profile)
    except ValidationFailed:
        db.session.rollback()  # leave nothing half-applied in the session
        raise
    audit.record("deployment.update", deployment)
    db.session.commit()
    return deployment


def deployment_usage(deployment: Deployment) -> tuple[int, int]:
    """(threads that refer to it, confirmations given with it): shown before deleting."""
    threads = db.session.execute(
        db.select(func.count(Thread.id)).where(Thread.deployment_id == deployment.id)).scalar_one()
    confirmations = db.session.execute(
        db.select(func.count(Confirmation.id)).where(Confirmation.deployment_id == deployment.id)).scalar_one()
    return threads, confirmations


def delete_deployment(deployment: Deployment) -> None:
    """Delete a deployment: threads keep their snapshot and lose the link; its confirmations go too."""
    # The foreign keys say the same (SET NULL / CASCADE); done here too so it holds on SQLite
    # connections where foreign-key enforcement happens to be off.
    db.session.execute(update(Thread).where(Thread.deployment_id == deployment.id).values(deployment_id=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Confirmation).where(Confirmation.deployment_id == deployment.id)
                       .execution_options(synchronize_session=False))
    audit.record("deployment.delete", deployment, before=audit.snapshot(deployment), after=None)
    db.session.delete(deployment)
    db.session.commit()


# --- invitations ---------------------------------------------------------------------------------

def pending_invitations(organisation: Organisation) -> list[Invitation]:
    """Unused, unexpired invitations into this organisation, newest first."""
    return list(db.session.execute(
        db.select(Invitation).where(Invitation.organisation_id == organisation.id,
                                    Invitation.used_at.is_(None), Invitation.expires_at > utcnow())
        .options(selectinload(Invitation.created_by))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())).scalars())


def revoke_invitation(invitation: Invitation) -> None:
    """Withdraw an unused invitation: its link stops working. Used ones stay as a record."""
    if invitation.used_at is not None:
        raise ValidationFailed(gettext("That invitation has already been used."))
    audit.record("invitation.revoke", invitation, before=audit.snapshot(invitation), after=None)
    db.session.delete(invitation)
    db.session.commit()


# --- people --------------------------------------------------------------------------------------

def users_query(search: str = "") -> Select:
    """Users by name, filtered by a fragment of name, username or email (for db.paginate)."""
    query = db.select(User).order_by(User.display_name, User.id)
    term = search.strip().lower()
    if term:
        query = query.where(or_(
            func.lower(User.display_name).contains(term, autoescape=True),
            func.lower(User.username).contains(term, autoescape=True),
            func.lower(User.email).contains(term, autoescape=True)))
    return query


def set_user_flags(user: User, acting: User, *, is_org_admin: bool, is_lead: bool, is_moderator: bool,
                   is_admin: bool) -> User:
    """Set a user's flags. Lead, moderator and admin are for employees (people of the vendor) only."""
    if not user.is_employee:
        wrong = [role for flag, role in ((is_lead, "implementation_lead"), (is_moderator, "moderator"),
                                         (is_admin, "admin")) if flag]
        if wrong:
            raise ValidationFailed(gettext(
                "Only employees (people of the vendor organisation) can be %(roles)s; %(display_name)s belongs to "
                "%(name)s (%(kind)s).", roles=labels.one_of(wrong), display_name=user.display_name,
                name=user.organisation.name, kind=labels.label(user.organisation.kind)))
    if user.id == acting.id and user.is_admin and not is_admin:
        raise ValidationFailed(gettext("You cannot remove your own admin rights; ask another admin."), "is_admin")
    user.is_org_admin, user.is_lead = is_org_admin, is_lead
    user.is_moderator, user.is_admin = is_moderator, is_admin
    audit.record("user.flags", user, actor=acting, summary=user.username)
    db.session.commit()
    return user


def set_user_active(user: User, acting: User, active: bool) -> User:
    """Deactivate (signing them out everywhere) or reactivate a user."""
    if user.id == acting.id and not active:
        raise ValidationFailed(gettext("You cannot deactivate yourself."))
    user.active = active
    if not active:
        revoke_sessions(user)
    audit.record("user.activate" if active else "user.deactivate", user, actor=acting, summary=user.username)
    db.session.commit()
    return user
