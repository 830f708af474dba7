"""The catalog admins keep: products and their versions, and the spaces threads live in.

Also home to the small helpers the admin services share: ``ValidationFailed`` and slug generation.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import gettext
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Product, ProductVersion, Space, SpaceKind, User, Visibility
from ..board.versions import review_list
from ..community import notifications
from ..moderation import audit

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ValidationFailed(Exception):
    """Input that breaks a domain rule; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def slugify(text: str, max_length: int = 80) -> str:
    """Lowercase ASCII words joined by hyphens ("Acme GmbH & Co." -> "acme-gmbh-co")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def unique_slug(model: type, text: str, max_length: int = 80, exclude_id: int | None = None) -> str:
    """A slug from ``text`` that no other row of ``model`` has, numbered ("-2", "-3") on clashes."""
    base = slugify(text, max_length) or model.__tablename__.replace("_", "-")
    candidate, n = base, 2
    while _slug_taken(model, candidate, exclude_id):
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)].rstrip("-") + suffix
        n += 1
    return candidate


def _slug_taken(model: type, slug: str, exclude_id: int | None) -> bool:
    query = db.select(model.id).where(model.slug == slug)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return db.session.execute(query.limit(1)).first() is not None


def checked_slug(model: type, requested: str, name: str, max_length: int, exclude_id: int | None) -> str:
    """The slug to store: the requested one (validated, must be free) or one generated from the name."""
    requested = (requested or "").strip().lower()
    if not requested:
        return unique_slug(model, name, max_length, exclude_id)
    if len(requested) > max_length or not SLUG_RE.match(requested):
        raise ValidationFailed(
            gettext("A slug is lowercase letters, digits and single hyphens (like 'ledger-cloud')."), "slug")
    if _slug_taken(model, requested, exclude_id):
        raise ValidationFailed(gettext("The slug '%(requested)s' is already taken.", requested=requested), "slug")
    return requested


def name_taken(model: type, name: str, exclude_id: int | None = None) -> bool:
    """Is this name used by another row already? Compared without regard to case."""
    query = db.select(model.id).where(func.lower(model.name) == name.strip().lower())
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return db.session.execute(query.limit(1)).first() is not None


def commit_or_fail(message: str, field: str | None = None) -> None:
    """Commit; a unique constraint hit by a concurrent request becomes a form error, not a 500."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ValidationFailed(message, field) from exc


# --- products and versions -----------------------------------------------------------------------

def product(product_id: int) -> Product | None:
    return db.session.get(Product, product_id)


def version(version_id: int) -> ProductVersion | None:
    return db.session.get(ProductVersion, version_id)


def space(space_id: int) -> Space | None:
    return db.session.get(Space, space_id)


def list_products() -> list[Product]:
    """Every product with its versions (in their order), loaded in two queries."""
    return list(db.session.execute(
        db.select(Product).options(selectinload(Product.versions)).order_by(Product.name)).scalars())


def version_choices() -> dict[str, list[tuple[int, str]]]:
    """Versions grouped by product name, for a select with one group per product."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for product in list_products():
        if product.versions:
            grouped[product.name] = [(v.id, f"{product.name} {v.name}") for v in product.versions]
    return grouped


def create_product(name: str, description: str = "", slug: str = "") -> Product:
    """Add a product to the catalog."""
    name = name.strip()
    if name_taken(Product, name):
        raise ValidationFailed(gettext("A product called '%(name)s' already exists.", name=name), "name")
    product = Product(name=name, description=description.strip(),
                      slug=checked_slug(Product, slug, name, 80, None))
    db.session.add(product)
    commit_or_fail(gettext("That product name or slug was just taken; choose another."), "name")
    audit.record("product.create", product, commit=True)
    return product


def update_product(product: Product, name: str, description: str = "", slug: str = "") -> Product:
    """Rename or re-describe a product; an empty slug keeps the current one."""
    name = name.strip()
    if name_taken(Product, name, product.id):
        raise ValidationFailed(gettext("A product called '%(name)s' already exists.", name=name), "name")
    if slug.strip() and slug.strip().lower() != product.slug:
        product.slug = checked_slug(Product, slug, name, 80, product.id)
    product.name, product.description = name, description.strip()
    audit.record("product.update", product)
    commit_or_fail(gettext("That product name or slug was just taken; choose another."), "name")
    return product


def _version_name_taken(product_id: int, name: str, exclude_id: int | None) -> bool:
    query = db.select(ProductVersion.id).where(
        ProductVersion.product_id == product_id, func.lower(ProductVersion.name) == name.lower())
    if exclude_id is not None:
        query = query.where(ProductVersion.id != exclude_id)
    return db.session.execute(query.limit(1)).first() is not None


def _place_version(version: ProductVersion, position: int | None) -> None:
    """Put ``version`` at ``position`` (0 = first; None = last) and renumber its product's versions 0..n-1."""
    others = [v for v in db.session.execute(
        db.select(ProductVersion).where(ProductVersion.product_id == version.product_id,
                                        ProductVersion.id != version.id)
        .order_by(ProductVersion.position, ProductVersion.id)).scalars()]
    index = len(others) if position is None else max(0, min(position, len(others)))
    others.insert(index, version)
    for n, item in enumerate(others):
        item.position = n


def create_version(product: Product, name: str, released_on: date | None = None,
                   position: int | None = None) -> ProductVersion:
    """Add a version at ``position`` in the product's order (0 = first); without one it goes last."""
    name = name.strip()
    if _version_name_taken(product.id, name, None):
        raise ValidationFailed(gettext("%(name)s already has a version '%(name2)s'.", name=product.name, name2=name), "name")
    version = ProductVersion(product_id=product.id, name=name, released_on=released_on)
    with db.session.no_autoflush:
        _place_version(version, position)
    db.session.add(version)
    commit_or_fail(gettext("%(name)s already has a version '%(name2)s'.", name=product.name, name2=name), "name")
    audit.record("version.create", version, commit=True)
    # Leads hear of the playbooks to review on it (after the version is saved; a failure there cannot undo it).
    actor_id = audit.acting_user_id()
    notifications.safely(_tell_leads, version, db.session.get(User, actor_id) if actor_id else None)
    return version


def _tell_leads(version: ProductVersion, actor: User | None) -> None:
    if review_list(version, limit=1):
        notifications.version_added(version, actor)


def update_version(version: ProductVersion, name: str, released_on: date | None,
                   position: int | None) -> ProductVersion:
    """Rename, re-date or move a version; an empty position keeps its place."""
    name = name.strip()
    if _version_name_taken(version.product_id, name, version.id):
        raise ValidationFailed(gettext("%(name)s already has a version '%(name2)s'.", name=version.product.name, name2=name), "name")
    version.name, version.released_on = name, released_on
    if position is not None:
        with db.session.no_autoflush:
            _place_version(version, position)
    audit.record("version.update", version)
    commit_or_fail(gettext("%(name)s already has a version '%(name2)s'.", name=version.product.name, name2=name),
                   "name")
    return version


# --- spaces --------------------------------------------------------------------------------------

def list_spaces() -> list[Space]:
    """All spaces in their display order."""
    return list(db.session.execute(db.select(Space).order_by(Space.position, Space.name)).scalars())


def is_ideas_space(space: Space) -> bool:
    """Is this a space for product ideas (votes and statuses)?"""
    return space.kind is SpaceKind.IDEAS


def create_space(name: str, slug: str = "", description: str = "",
                 default_visibility: Visibility = Visibility.PUBLIC, position: int | None = None,
                 staff_posts_only: bool = False, ideas: bool = False) -> Space:
    """Open a new space; without a position it goes last."""
    name = name.strip()
    if name_taken(Space, name):
        raise ValidationFailed(gettext("A space called '%(name)s' already exists.", name=name), "name")
    if position is None:
        last = db.session.execute(db.select(func.max(Space.position))).scalar()
        position = (last if last is not None else -1) + 1
    space = Space(name=name, slug=checked_slug(Space, slug, name, 80, None), description=description.strip(),
                  default_visibility=Visibility(default_visibility), position=position,
                  staff_posts_only=bool(staff_posts_only), kind=SpaceKind.IDEAS if ideas else SpaceKind.DISCUSSION)
    db.session.add(space)
    commit_or_fail(gettext("That space slug was just taken; choose another."), "slug")
    audit.record("space.create", space, commit=True)
    return space


def update_space(space: Space, name: str, slug: str, description: str,
                 default_visibility: Visibility, position: int | None, staff_posts_only: bool | None = None,
                 ideas: bool | None = None) -> Space:
    """Edit a space; an empty slug keeps the current one (links to it keep working)."""
    name = name.strip()
    if name_taken(Space, name, space.id):
        raise ValidationFailed(gettext("A space called '%(name)s' already exists.", name=name), "name")
    if slug.strip() and slug.strip().lower() != space.slug:
        space.slug = checked_slug(Space, slug, name, 80, space.id)
    space.name, space.description = name, description.strip()
    space.default_visibility = Visibility(default_visibility)
    if position is not None:
        space.position = position
    if staff_posts_only is not None:
        space.staff_posts_only = bool(staff_posts_only)
    if ideas is not None:
        space.kind = SpaceKind.IDEAS if ideas else SpaceKind.DISCUSSION
    audit.record("space.update", space)
    commit_or_fail(gettext("That space slug was just taken; choose another."), "slug")
    return space
