"""Finding or creating what imported threads point at: organisations, people, spaces, tags, deployments.

Unknown organisations and authors become placeholders (``is_placeholder``; no password, so nobody can sign
in as them). Everything is looked up and created a chunk at a time with Core statements, and remembered, so
100k threads cost a few queries per thousand lines.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, select, text

from ..extensions import db
from ..models import (
    Deployment,
    Environment,
    Hosting,
    Organisation,
    OrgKind,
    Product,
    ProductVersion,
    Space,
    Tag,
    User,
    Visibility,
)
from .records import ThreadRecord

DEFAULT_SPACE = "Imported"
DEFAULT_AUTHOR = "Imported user"
VENDOR_PLACEHOLDER = "Imported vendor"
PLACEHOLDER_DOMAIN = "placeholder.invalid"
#: Spaces the importer creates are internal until an admin opens them: history stays with staff by default.
NEW_SPACE_VISIBILITY = Visibility.INTERNAL


def slugify(text: str, max_length: int = 80) -> str:
    """Lower-case ASCII words joined by dashes ("Acme GmbH & Co." -> "acme-gmbh-co")."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:max_length].strip("-")
    return slug or "x"


def _digest(*parts: str, length: int = 20) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def _insert_returning(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` in one executemany and return their new ids in the same order."""
    if not rows:
        return []
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # Ids taken from the sequence up front, then a plain executemany: psycopg pipelines it, which was
        # about 7x faster here than the multi-row INSERT ... RETURNING SQLAlchemy builds for RETURNING.
        ids = sorted(db.session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)}).scalars())
        db.session.execute(insert(table), [dict(row, id=new_id) for row, new_id in zip(rows, ids, strict=True)])
        return ids
    result = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result]


class Resolver:
    """Name -> id maps that grow as chunks are resolved; ``created`` counts new rows by kind."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.created: dict[str, int] = {}
        self.orgs: dict[str, tuple[int, OrgKind]] = {}  # lower-case name -> (id, kind)
        self.spaces: dict[str, tuple[int, Visibility]] = {}  # lower-case name -> (id, default visibility)
        self.users: dict[tuple[int, str], int] = {}  # (organisation id, lower-case author) -> id
        self.user_orgs: dict[str, tuple[int, int]] = {}  # lower-case email of a real user -> (id, org id)
        self.tags: dict[str, int] = {}
        self.deployments: dict[tuple, int] = {}
        self._orgs_with_deployments: set[int] = set()
        self._vendor_id: int | None = None
        self._placeholders: dict[str, int] = {}  # e-mail -> id of placeholder people already in the forum
        self._orgs_loaded: set[int] = set()
        self._orgs_created: set[int] = set()
        self._versions: dict[tuple[str, str], tuple[int, str, str]] | None = None
        self._by_version: dict[int, tuple[str, str]] | None = None

    def _count(self, kind: str, n: int) -> None:
        if n:
            self.created[kind] = self.created.get(kind, 0) + n

    # --- the whole chunk -----------------------------------------------------------------------

    def prepare(self, records: list[ThreadRecord]) -> None:
        """Make sure every name the chunk uses has an id (querying and creating in bulk)."""
        emails = {a.lower() for r in records for a in _authors(r) if a and "@" in a}
        self._load_real_users(emails)
        self._resolve_orgs({(r.organisation, r.organisation_kind) for r in records if r.organisation}
                           | {(x.organisation, OrgKind.CUSTOMER) for r in records for x in r.replies
                              if x.organisation})
        self._resolve_spaces({r.space or DEFAULT_SPACE for r in records})
        self._resolve_tags({t for r in records for t in r.tags})
        self._resolve_users(records)
        self._resolve_deployments(records)

    def thread_org_id(self, record: ThreadRecord) -> int:
        """The organisation the thread belongs to: as given, else its real author's, else the vendor's."""
        if record.organisation:
            return self.orgs[record.organisation.lower()][0]
        real = self.user_orgs.get((record.author or "").lower())
        return real[1] if real else self.vendor_id()

    def author_id(self, author: str | None, org_id: int) -> int:
        real = self.user_orgs.get((author or "").lower())
        if real:
            return real[0]
        return self.users[(org_id, (author or DEFAULT_AUTHOR).lower())]

    def reply_org_id(self, record: ThreadRecord, organisation: str | None) -> int:
        # A reply without an organisation is attributed to the thread's organisation.
        return self.orgs[organisation.lower()][0] if organisation else self.thread_org_id(record)

    def space(self, record: ThreadRecord) -> tuple[int, Visibility]:
        return self.spaces[(record.space or DEFAULT_SPACE).lower()]

    # --- organisations -------------------------------------------------------------------------

    def vendor_id(self) -> int:
        """The vendor organisation (the first real one; a placeholder when the forum has none yet)."""
        if self._vendor_id is None:
            found = db.session.execute(select(Organisation.id).where(Organisation.kind == OrgKind.VENDOR)
                                       .order_by(Organisation.is_placeholder, Organisation.id).limit(1)).scalar()
            if found is None:
                self._resolve_orgs({(VENDOR_PLACEHOLDER, OrgKind.VENDOR)})
                found = self.orgs[VENDOR_PLACEHOLDER.lower()][0]
            self._vendor_id = found
        return self._vendor_id

    def _resolve_orgs(self, wanted: set[tuple[str, OrgKind]]) -> None:
        missing = {name.lower(): (name, kind) for name, kind in sorted(wanted, key=lambda w: w[0])
                   if name.lower() not in self.orgs}
        if not missing:
            return
        slugs = {key: slugify(name, 100) for key, (name, _) in missing.items()}
        rows = db.session.execute(select(Organisation.id, Organisation.name, Organisation.slug, Organisation.kind)
                                  .where(func.lower(Organisation.name).in_(list(missing))
                                         | Organisation.slug.in_(list(slugs.values())))).all()
        by_slug = {}
        for oid, name, slug, kind in rows:
            self.orgs.setdefault(name.lower(), (oid, kind))
            by_slug[slug] = (oid, kind)
        for key, slug in slugs.items():  # "ACME Corp." and an existing "acme-corp" are the same firm
            if key not in self.orgs and slug in by_slug:
                self.orgs[key] = by_slug[slug]
        new = [(key, name, kind) for key, (name, kind) in missing.items() if key not in self.orgs]
        unique = self._unique_slugs(Organisation, [(slugs[key], name) for key, name, _ in new])
        ids = _insert_returning(Organisation, [
            {"name": name, "slug": slug, "kind": kind, "description": "Created by an import.", "is_placeholder": True,
             "created_at": self.now} for (_, name, kind), slug in zip(new, unique, strict=True)])
        for (key, _, kind), oid in zip(new, ids, strict=True):
            self.orgs[key] = (oid, kind)
        self._orgs_created.update(ids)
        self._count("organisations", len(ids))

    @staticmethod
    def _unique_slugs(model, wanted: list[tuple[str, str]]) -> list[str]:
        """Each base slug, or base plus a hash of the name where the base is taken (or repeated here)."""
        candidates = [slug for slug, _ in wanted] + [f"{slug[:70]}-{_digest(name, length=8)}" for slug, name in wanted]
        taken = set(db.session.execute(select(model.slug).where(model.slug.in_(candidates))).scalars())
        out = []
        for slug, name in wanted:
            choice = slug if slug not in taken else f"{slug[:70]}-{_digest(name, length=8)}"
            if choice in taken:
                raise ValueError(f"cannot find a free slug for {name!r}")
            taken.add(choice)
            out.append(choice)
        return out

    # --- people --------------------------------------------------------------------------------

    def _load_real_users(self, emails: set[str]) -> None:
        todo = [e for e in emails if e not in self.user_orgs]
        for start in range(0, len(todo), 500):
            part = todo[start:start + 500]
            for uid, email, org_id in db.session.execute(
                    select(User.id, User.email, User.organisation_id)
                    .where(func.lower(User.email).in_(part), User.is_placeholder.is_(False))):
                self.user_orgs[email.lower()] = (uid, org_id)

    def _load_placeholders(self, org_ids: set[int]) -> None:
        """The placeholder people of organisations not seen yet (those created by this import have none)."""
        todo = sorted(org_ids - self._orgs_loaded - self._orgs_created)
        for start in range(0, len(todo), 500):
            self._placeholders.update(db.session.execute(
                select(User.email, User.id).where(User.organisation_id.in_(todo[start:start + 500]),
                                                  User.is_placeholder.is_(True))).all())
        self._orgs_loaded.update(todo)

    def _resolve_users(self, records: list[ThreadRecord]) -> None:
        wanted: dict[tuple[int, str], str] = {}
        for r in records:
            org_id = self.thread_org_id(r)
            if (r.author or "").lower() not in self.user_orgs:
                wanted.setdefault((org_id, (r.author or DEFAULT_AUTHOR).lower()), r.author or DEFAULT_AUTHOR)
            for reply in r.replies:
                if (reply.author or "").lower() not in self.user_orgs:
                    key = (self.reply_org_id(r, reply.organisation), (reply.author or DEFAULT_AUTHOR).lower())
                    wanted.setdefault(key, reply.author or DEFAULT_AUTHOR)
        missing = {key: name for key, name in wanted.items() if key not in self.users}
        if not missing:
            return
        # A placeholder is found again by its made-up address: a hash of its organisation and name.
        emails = {key: f"imported-{_digest(str(key[0]), key[1])}@{PLACEHOLDER_DOMAIN}" for key in missing}
        self._load_placeholders({key[0] for key in missing})
        new = []
        for key, email in emails.items():
            if email in self._placeholders:
                self.users[key] = self._placeholders[email]
            else:
                name = missing[key]
                display = name.split("@", 1)[0] if "@" in name else name  # never show an imported address
                new.append((key, {"email": email, "username": email.split("@", 1)[0], "display_name": display[:80],
                                  "password_hash": "", "organisation_id": key[0], "is_placeholder": True,
                                  "created_at": self.now}))
        ids = _insert_returning(User, [row for _, row in new])
        for (key, _), uid in zip(new, ids, strict=True):
            self.users[key] = uid
        self._count("users", len(ids))

    # --- spaces and tags -----------------------------------------------------------------------

    def _resolve_spaces(self, names: set[str]) -> None:
        missing = {name.lower(): name for name in sorted(names) if name.lower() not in self.spaces}
        if not missing:
            return
        slugs = {key: slugify(name) for key, name in missing.items()}
        rows = db.session.execute(select(Space.id, Space.name, Space.slug, Space.default_visibility)
                                  .where(func.lower(Space.name).in_(list(missing))
                                         | Space.slug.in_(list(slugs.values())))).all()
        by_slug = {}
        for sid, name, slug, visibility in rows:
            self.spaces.setdefault(name.lower(), (sid, visibility))
            by_slug[slug] = (sid, visibility)
        for key, slug in slugs.items():
            if key not in self.spaces and slug in by_slug:
                self.spaces[key] = by_slug[slug]
        new = [(key, name) for key, name in missing.items() if key not in self.spaces]
        unique = self._unique_slugs(Space, [(slugs[key], name) for key, name in new])
        ids = _insert_returning(Space, [
            {"slug": slug, "name": name, "description": "Threads brought in by an import.",
             "default_visibility": NEW_SPACE_VISIBILITY, "position": 1000, "created_at": self.now}
            for (_, name), slug in zip(new, unique, strict=True)])
        for (key, _), sid in zip(new, ids, strict=True):
            self.spaces[key] = (sid, NEW_SPACE_VISIBILITY)
        self._count("spaces", len(ids))

    def _resolve_tags(self, names: set[str]) -> None:
        missing = sorted(n for n in names if n not in self.tags)
        if not missing:
            return
        self.tags.update(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(missing))).all())
        new = [n for n in missing if n not in self.tags]
        self.tags.update(zip(new, _insert_returning(Tag, [{"name": n} for n in new]), strict=True))
        self._count("tags", len(new))

    # --- deployments ---------------------------------------------------------------------------

    def versions(self) -> dict[tuple[str, str], tuple[int, str, str]]:
        """The catalog: (product, version) in lower case -> (version id, product name, version name)."""
        if self._versions is None:
            rows = db.session.execute(select(ProductVersion.id, Product.name, Product.slug, ProductVersion.name)
                                      .join(Product, Product.id == ProductVersion.product_id)).all()
            self._versions = {}
            for vid, product, slug, version in rows:
                for key in (product.lower(), slug.lower()):
                    self._versions[(key, version.lower())] = (vid, product, version)
        return self._versions

    def _names_by_version(self) -> dict[int, tuple[str, str]]:
        if self._by_version is None:
            self._by_version = {vid: (product, version) for vid, product, version in self.versions().values()}
        return self._by_version

    def deployment_key(self, record: ThreadRecord) -> tuple | None:
        """Which Deployment a line's fields describe, when its product and version are in the catalog."""
        snap = record.deployment
        if not snap or not record.organisation:
            return None
        found = self.versions().get((snap["product"].lower(), snap["version"].lower()))
        org_id, kind = self.orgs[record.organisation.lower()]
        if found is None or kind is OrgKind.VENDOR:
            return None
        return (org_id, found[0], snap["hosting"] or Hosting.ON_PREMISES.value, snap["database"],
                snap["operating_system"], snap["topology"], snap["environment"] or Environment.PRODUCTION.value)

    def _resolve_deployments(self, records: list[ThreadRecord]) -> None:
        keys = {key for r in records if (key := self.deployment_key(r)) is not None}
        orgs = sorted({key[0] for key in keys} - self._orgs_with_deployments)
        if orgs:
            for row in db.session.execute(select(
                    Deployment.id, Deployment.organisation_id, Deployment.product_version_id, Deployment.hosting,
                    Deployment.database, Deployment.operating_system, Deployment.topology, Deployment.environment)
                    .where(Deployment.organisation_id.in_(orgs)).order_by(Deployment.id)):
                key = (row[1], row[2], row[3].value, row[4], row[5], row[6], row[7].value)
                self.deployments.setdefault(key, row[0])
            self._orgs_with_deployments.update(orgs)
        new = sorted(k for k in keys if k not in self.deployments)
        names = {vid: f"{product} {version}" for vid, (product, version) in self._names_by_version().items()}
        ids = _insert_returning(Deployment, [
            {"organisation_id": k[0], "name": f"Imported: {names[k[1]]}"[:80], "product_version_id": k[1],
             "edition": "", "hosting": Hosting(k[2]), "database": k[3], "operating_system": k[4], "topology": k[5],
             "integrations": [], "environment": Environment(k[6]), "go_live": None, "size_users": None,
             "created_at": self.now, "updated_at": self.now} for k in new])
        self.deployments.update(zip(new, ids, strict=True))
        self._count("deployments", len(ids))

    def snapshot(self, record: ThreadRecord) -> tuple[int | None, dict | None]:
        """The thread's deployment id (if matched or created) and its snapshot in the board's shape."""
        if record.deployment is None:
            return None, None
        snap = dict(record.deployment)
        key = self.deployment_key(record)
        if key is not None:
            product, version = self._names_by_version()[key[1]]
            snap.update(deployment_id=self.deployments[key], product=product, version=version)
        return snap["deployment_id"], snap


def _authors(record: ThreadRecord) -> Iterable[str | None]:
    yield record.author
    for reply in record.replies:
        yield reply.author
