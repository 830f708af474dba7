"""Insert the demo content: every row is found by its natural key first, so a second run adds nothing."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..markdown import render_markdown
from ..models import (
    Confirmation,
    Deployment,
    Engagement,
    Environment,
    Hosting,
    Organisation,
    OrgKind,
    Product,
    ProductVersion,
    Reply,
    Revision,
    Space,
    Tag,
    Thread,
    ThreadKind,
    ThreadStatus,
    TwoFactor,
    User,
    Visibility,
    Vote,
)
from ..passwords import hash_password
from ..services.identity.secretbox import seal
from .people import DEMO_LOGINS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from .spec import DemoContent, ThreadSpec

CHUNK = 100
Progress = Callable[[int, int], None]


@dataclass
class SeedResult:
    """What one run added, by kind of row."""

    added: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, n: int = 1) -> None:
        self.added[kind] = self.added.get(kind, 0) + n

    @property
    def nothing_added(self) -> bool:
        return not any(self.added.values())


class _Seeder:
    def __init__(self, content: DemoContent, progress: Progress | None) -> None:
        self.content, self.progress, self.result = content, progress, SeedResult()
        self._html: dict[str, str] = {}
        self._password_hash: str | None = None

    def html(self, text: str) -> str:
        # Many short replies repeat word for word; render each distinct text once.
        if text not in self._html:
            self._html[text] = render_markdown(text)
        return self._html[text]

    def password_hash(self) -> str:
        if self._password_hash is None:
            self._password_hash = hash_password(DEMO_PASSWORD)
        return self._password_hash

    def _add(self, kind: str, obj) -> None:  # noqa: ANN001
        db.session.add(obj)
        self.result.count(kind)

    def run(self) -> SeedResult:
        self.catalog()
        self.organisations()
        self.people()
        self.second_factors()
        self.deployments()
        self.spaces_and_tags()
        db.session.flush()
        self.threads()
        db.session.commit()
        return self.result

    def catalog(self) -> None:
        self.versions: dict[tuple[str, str], ProductVersion] = {}
        for spec in self.content.products:
            product = db.session.execute(select(Product).where(Product.slug == spec.slug)).scalar_one_or_none()
            if product is None:
                product = Product(name=spec.name, slug=spec.slug, description=spec.description)
                self._add("products", product)
            existing = {v.name: v for v in product.versions} if product.id else {}
            for position, (name, released) in enumerate(spec.versions):
                version = existing.get(name)
                if version is None:
                    version = ProductVersion(product=product, name=name, position=position, released_on=released)
                    self._add("versions", version)
                self.versions[(spec.key, name)] = version

    def organisations(self) -> None:
        slugs, names = [o.slug for o in self.content.orgs], [o.name for o in self.content.orgs]
        found = db.session.execute(select(Organisation).where(
            Organisation.slug.in_(slugs) | Organisation.name.in_(names))).scalars().all()
        by_name = {o.name: o for o in found}
        self.orgs = {o.slug: o for o in found}
        for spec in self.content.orgs:
            if spec.slug not in self.orgs and spec.name in by_name:  # renamed slug: the name still identifies it
                self.orgs[spec.slug] = by_name[spec.name]
            if spec.slug not in self.orgs:
                org = Organisation(name=spec.name, slug=spec.slug, kind=OrgKind(spec.kind),
                                   description=spec.description, created_at=spec.created_at)
                self._add("organisations", org)
                self.orgs[spec.slug] = org
        existing = {tuple(row) for row in db.session.execute(select(Engagement.partner_id, Engagement.customer_id))}
        db.session.flush()
        for partner, customer in self.content.engagements:
            pair = (self.orgs[partner].id, self.orgs[customer].id)
            if pair not in existing:
                self._add("engagements", Engagement(partner_id=pair[0], customer_id=pair[1],
                                                    created_at=self.orgs[customer].created_at))

    def people(self) -> None:
        emails = [u.email for u in self.content.users]
        found = db.session.execute(select(User).where(User.email.in_(emails))).scalars()
        self.users = {u.email: u for u in found}
        last_seen = _last_activity_by_email(self.content)
        taken = set(db.session.execute(
            select(User.username).where(User.username.in_([u.username for u in self.content.users]))).scalars())
        for spec in self.content.users:
            if spec.email in self.users:
                continue
            username = spec.username
            while username in taken:  # someone registered that name already: keep theirs
                username += "-demo"
            taken.add(username)
            user = User(email=spec.email, username=username, display_name=spec.display_name,
                        password_hash=self.password_hash(), organisation=self.orgs[spec.org_slug],
                        is_org_admin=spec.is_org_admin, is_lead=spec.is_lead, is_moderator=spec.is_moderator,
                        is_admin=spec.is_admin, bio=spec.bio, created_at=spec.created_at,
                        last_seen_at=last_seen.get(spec.email))
            self._add("users", user)
            self.users[spec.email] = user

    def second_factors(self) -> None:
        """The demo's staff logins get the published authenticator key (staff must sign in with a second factor)."""
        db.session.flush()
        staff = [u for email, _ in DEMO_LOGINS if (u := self.users.get(email)) is not None and u.is_employee]
        enrolled = set(db.session.execute(select(TwoFactor.user_id).where(
            TwoFactor.user_id.in_([u.id for u in staff]))).scalars())
        for user in staff:
            if user.id not in enrolled:
                self._add("authenticator apps", TwoFactor(user_id=user.id, secret_encrypted=seal(DEMO_TOTP_SECRET),
                                                          last_step=0))

    def deployments(self) -> None:
        org_ids = [o.id for o in self.orgs.values() if o.id is not None]
        found = db.session.execute(select(Deployment).where(Deployment.organisation_id.in_(org_ids))).scalars()
        by_key = {(d.organisation_id, d.name): d for d in found}
        self.deps: dict[tuple[str, str], Deployment] = {}
        for spec in self.content.deployments:
            org = self.orgs[spec.org_slug]
            dep = by_key.get((org.id, spec.name)) if org.id is not None else None
            if dep is None:
                created = org.created_at + timedelta(days=1)
                dep = Deployment(
                    organisation=org, name=spec.name, product_version=self.versions[(spec.product_key, spec.version)],
                    edition=spec.edition, hosting=Hosting(spec.hosting), database=spec.database,
                    operating_system=spec.operating_system, topology=spec.topology,
                    integrations=list(spec.integrations), environment=Environment(spec.environment),
                    go_live=spec.go_live, size_users=spec.size_users, created_at=created, updated_at=created)
                self._add("deployments", dep)
            self.deps[spec.key] = dep

    def spaces_and_tags(self) -> None:
        found = db.session.execute(select(Space).where(Space.slug.in_([s.slug for s in self.content.spaces])))
        self.spaces = {s.slug: s for s in found.scalars()}
        for spec in self.content.spaces:
            if spec.slug in self.spaces and spec.staff_posts_only:
                # a demo seeded before spaces had the setting gets it: customers do not post announcements
                self.spaces[spec.slug].staff_posts_only = True
            if spec.slug not in self.spaces:
                space = Space(slug=spec.slug, name=spec.name, description=spec.description,
                              default_visibility=Visibility(spec.default_visibility), position=spec.position,
                              staff_posts_only=spec.staff_posts_only)
                self._add("spaces", space)
                self.spaces[spec.slug] = space
        names = sorted({tag for t in self.content.threads for tag in t.tags})
        self.tags = {t.name: t for t in db.session.execute(select(Tag).where(Tag.name.in_(names))).scalars()}
        for name in names:
            if name not in self.tags:
                self.tags[name] = Tag(name=name)
                self._add("tags", self.tags[name])

    def threads(self) -> None:
        existing = set(db.session.execute(
            select(Thread.external_id).where(Thread.external_id.like("demo-%"))).scalars())
        todo = [t for t in self.content.threads if t.external_id not in existing]
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            pairs = [(spec, self.thread(spec)) for spec in chunk]
            db.session.flush()
            for spec, thread in pairs:
                self.votes_and_confirmations(spec, thread)
            db.session.flush()
            if self.progress:
                self.progress(start + len(chunk), len(todo))

    def thread(self, spec: ThreadSpec) -> Thread:
        dep = self.deps.get(spec.deployment_key) if spec.deployment_key else None
        snapshot = None
        if dep is not None:
            snapshot = dep.snapshot()
            snapshot["version"] = spec.snapshot_version or snapshot["version"]
        replies = [
            Reply(author=self.users[r.author_email], body_md=r.body_md, body_html=self.html(r.body_md),
                  is_staff_note=r.is_staff_note, created_at=r.created_at, updated_at=r.created_at,
                  score=sum(value for _, value in r.votes),
                  deleted_at=r.created_at + timedelta(hours=2) if r.deleted_by_email else None,
                  deleted_by_id=self.users[r.deleted_by_email].id if r.deleted_by_email else None)
            for r in spec.replies
        ]
        public = [r for r in spec.replies if not r.is_staff_note and r.deleted_by_email is None]
        thread = Thread(
            space=self.spaces[spec.space_slug], author=self.users[spec.author_email],
            organisation=self.orgs[spec.org_slug], title=spec.title, body_md=spec.body_md,
            body_html=self.html(spec.body_md), kind=ThreadKind(spec.kind), visibility=Visibility(spec.visibility),
            status=ThreadStatus(spec.status), deployment_id=dep.id if dep is not None else None,
            deployment_snapshot=snapshot, reply_count=len(public), external_id=spec.external_id,
            created_at=spec.created_at, updated_at=spec.created_at,
            last_activity_at=max([spec.created_at] + [r.created_at for r in public]),
            resolved_at=spec.resolved_at, tags=[self.tags[name] for name in spec.tags], replies=replies)
        if spec.accepted_index is not None:
            thread.accepted_reply = replies[spec.accepted_index]
        if spec.edited_at is not None:
            thread.updated_at = spec.edited_at
        self.result.count("threads")
        self.result.count("replies", len(replies))
        db.session.add(thread)
        return thread

    def votes_and_confirmations(self, spec: ThreadSpec, thread: Thread) -> None:
        if spec.previous_body is not None:
            self._add("revisions", Revision(thread_id=thread.id, editor_id=thread.author_id, previous_title=spec.title,
                                            previous_md=spec.previous_body, created_at=spec.edited_at))
        for reply_spec, reply in zip(spec.replies, thread.replies, strict=True):
            for email, value in reply_spec.votes:
                self._add("votes", Vote(reply_id=reply.id, user_id=self.users[email].id, value=value,
                                        created_at=reply.created_at + timedelta(hours=3)))
        if spec.accepted_index is not None:
            accepted = thread.replies[spec.accepted_index]
            for c in spec.confirmations:
                self._add("confirmations", Confirmation(
                    reply_id=accepted.id, user_id=self.users[c.user_email].id,
                    deployment_id=self.deps[c.deployment_key].id, note=c.note, created_at=c.created_at))


def _last_activity_by_email(content: DemoContent) -> dict[str, datetime]:
    last: dict[str, datetime] = {}
    for thread in content.threads:
        events = [(thread.author_email, thread.created_at)]
        events += [(r.author_email, r.created_at) for r in thread.replies]
        events += [(c.user_email, c.created_at) for c in thread.confirmations]
        for email, when in events:
            if email not in last or when > last[email]:
                last[email] = when
    return last


def seed_demo(content: DemoContent, progress: Progress | None = None) -> SeedResult:
    """Insert whatever part of ``content`` is missing, in one transaction."""
    try:
        return _Seeder(content, progress).run()
    except BaseException:
        db.session.rollback()
        raise


def demo_counts() -> dict[str, int]:
    """How much demo content the database holds now (for the summary line)."""
    demo = Thread.external_id.like("demo-%")
    scalar = db.session.scalar
    return {
        "organisations": scalar(select(func.count()).select_from(Organisation)),
        "users": scalar(select(func.count()).select_from(User)),
        "deployments": scalar(select(func.count()).select_from(Deployment)),
        "threads": scalar(select(func.count()).select_from(Thread).where(demo)),
        "replies": scalar(select(func.count()).select_from(Reply).join(Thread, Reply.thread_id == Thread.id)
                          .where(demo)),
    }
