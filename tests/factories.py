"""Row factories for tests: small, explicit, committed."""
from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

from sqlalchemy import insert

from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import (
    Deployment,
    Engagement,
    Organisation,
    OrgKind,
    Product,
    ProductVersion,
    Reply,
    Space,
    Thread,
    ThreadKind,
    ThreadStatus,
    User,
    Visibility,
)
from forum.passwords import hash_password

_counter = itertools.count(1)
_HASH_CACHE: dict[str, str] = {}


def _n() -> int:
    return next(_counter)


class Factory:
    PASSWORD = "correct horse battery staple 42"

    def _save(self, obj):
        db.session.add(obj)
        db.session.commit()
        return obj

    def org(self, kind: OrgKind | str = OrgKind.CUSTOMER, name: str | None = None) -> Organisation:
        kind = OrgKind(kind)
        n = _n()
        name = name or f"{kind.value.title()} Org {n}"
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + f"-{n}"
        return self._save(Organisation(name=name, slug=slug, kind=kind))

    def vendor_org(self) -> Organisation:
        existing = db.session.execute(db.select(Organisation).filter_by(kind=OrgKind.VENDOR)).scalars().first()
        return existing or self.org(OrgKind.VENDOR, name="Vendor")

    def customer_org(self, name: str | None = None) -> Organisation:
        return self.org(OrgKind.CUSTOMER, name)

    def partner_org(self, name: str | None = None) -> Organisation:
        return self.org(OrgKind.PARTNER, name)

    def engage(self, partner: Organisation, customer: Organisation) -> Engagement:
        return self._save(Engagement(partner_id=partner.id, customer_id=customer.id))

    def user(self, org: Organisation | None = None, **flags) -> User:
        org = org or self.customer_org()
        n = _n()
        if self.PASSWORD not in _HASH_CACHE:
            _HASH_CACHE[self.PASSWORD] = hash_password(self.PASSWORD)
        user = User(
            email=flags.pop("email", f"user{n}@example.test"),
            username=flags.pop("username", f"user{n}"),
            display_name=flags.pop("display_name", f"User {n}"),
            password_hash=_HASH_CACHE[self.PASSWORD],
            organisation_id=org.id,
            **flags,
        )
        return self._save(user)

    def employee(self, **flags) -> User:
        return self.user(self.vendor_org(), **flags)

    def product_version(self, product: str = "Ledger", version: str = "1.0") -> ProductVersion:
        prod = db.session.execute(db.select(Product).filter_by(name=product)).scalar_one_or_none()
        if prod is None:
            prod = self._save(Product(name=product, slug=product.lower()))
        pv = db.session.execute(
            db.select(ProductVersion).filter_by(product_id=prod.id, name=version)).scalar_one_or_none()
        return pv or self._save(ProductVersion(product_id=prod.id, name=version))

    def deployment(self, org: Organisation, **fields) -> Deployment:
        pv = fields.pop("product_version", None) or self.product_version()
        return self._save(Deployment(
            organisation_id=org.id, name=fields.pop("name", f"Deployment {_n()}"),
            product_version_id=pv.id, database=fields.pop("database", "PostgreSQL 15"),
            topology=fields.pop("topology", "single node"), go_live=fields.pop("go_live", date(2026, 1, 1)),
            **fields))

    def space(self, name: str | None = None, visibility: Visibility = Visibility.PUBLIC) -> Space:
        n = _n()
        name = name or f"Space {n}"
        return self._save(Space(slug=f"space-{n}", name=name, default_visibility=visibility))

    def thread(self, author: User, visibility: Visibility | str = Visibility.PUBLIC, space: Space | None = None,
               title: str | None = None, body: str = "Body text", kind: ThreadKind = ThreadKind.QUESTION,
               **fields) -> Thread:
        space = space or self.space()
        n = _n()
        thread = Thread(
            space_id=space.id, author_id=author.id, organisation_id=author.organisation_id,
            title=title or f"Thread {n}", body_md=body, body_html=render_markdown(body), kind=kind,
            visibility=Visibility(visibility), status=fields.pop("status", ThreadStatus.OPEN), **fields)
        return self._save(thread)

    def copies(self, thread: Thread, count: int, **changes) -> None:
        """``count`` copies of ``thread`` in one statement, each seven minutes older than the one before: a forum
        large enough for the planner to read plans on, in a fraction of what ``count`` threads one by one cost."""
        columns = {c.key: getattr(thread, c.key) for c in Thread.__table__.columns if c.key != "id"}
        rows = [{**columns, "title": f"{thread.title} {i}", **changes,
                 "last_activity_at": thread.last_activity_at - timedelta(minutes=7 * i)} for i in range(1, count + 1)]
        db.session.execute(insert(Thread), rows)
        db.session.commit()

    def reply(self, thread: Thread, author: User, body: str = "A reply", staff_note: bool = False) -> Reply:
        reply = Reply(thread_id=thread.id, author_id=author.id, body_md=body, body_html=render_markdown(body),
                      is_staff_note=staff_note)
        db.session.add(reply)
        if not staff_note:
            thread.reply_count += 1
            if thread.status is ThreadStatus.OPEN:
                thread.status = ThreadStatus.ANSWERED
        db.session.commit()
        return reply


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login_as(client, user: User, password: str):
    """Sign in through the real login form, CSRF token included."""
    page = client.get("/login")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code in (302, 303), f"login failed: {response.status_code}"
    return response
