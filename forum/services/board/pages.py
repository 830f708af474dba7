"""Read side of the board: what the home, space and thread pages show, in a constant number of queries.

Every list goes through ``permissions.visible_threads`` in SQL; every single thread through ``can_view``.
"""
from __future__ import annotations

import functools
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Engine, Select, bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ... import permissions
from ...extensions import db
from ...models import (
    Deployment,
    Organisation,
    Reply,
    Revision,
    Space,
    Tag,
    Thread,
    ThreadKind,
    ThreadStatus,
    User,
    Visibility,
    thread_tag,
)
from . import generation, reply_rows, versions

MAX_PAGE = 10_000  # deeper offsets are useless to people and only cost the database
DEEP_PAGE = 10  # from this page on a list page reads its rows by key (``fetch_page``)
MAX_ID = 2**31 - 1  # larger ids from a URL would overflow PostgreSQL's integer columns


@dataclass
class Page:
    """One page of a list; ``total`` is None where counting would cost more than it tells."""

    items: list[Any]
    page: int
    per_page: int
    has_next: bool
    total: int | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def of_rows(cls, rows: list[Any], page: int, per_page: int, total: int | None = None) -> Page:
        """The page from its rows read with one more than it shows: that one says whether a next page exists."""
        return cls(items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page, total=total)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, math.ceil(self.total / self.per_page))


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def clamp_page(raw: Any) -> int:
    """Any user-supplied page number to 1..MAX_PAGE."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def fetch_page(query: Select, page: int, per_page: int, total: int | None = None,
               load: Callable[[Select], list] | None = None, key: ColumnElement | None = None) -> Page:
    """Run ``query`` for one page, fetching one row more to know whether there is a next page.

    ``load`` turns the limited query into the items (default: its first column's values, e.g. ORM objects).
    With ``key`` (the rows' id column), a page from ``DEEP_PAGE`` on reads its rows by the keys of ``page_keys``.
    """
    page = clamp_page(page)
    limited = limit_page(query, page, per_page, key)
    rows = load(limited) if load is not None else list(db.session.execute(limited).scalars())
    return Page.of_rows(rows, page, per_page, total)


def limit_page(query: Select, page: int, per_page: int, key: ColumnElement | None = None) -> Select:
    """``query`` limited to one page (``page`` already clamped) and one row more; see ``fetch_page``."""
    if key is not None and page >= DEEP_PAGE:
        return query.where(key.in_(page_keys(query, key, page, per_page).scalar_subquery())).limit(per_page + 1)
    limit, offset = per_page + 1, (page - 1) * per_page
    if db.session.get_bind().dialect.name == "postgresql":
        limit, offset = _inline(limit), _inline(offset)
    return query.limit(limit).offset(offset)


def _inline(value: Any, type_: Any = None) -> ColumnElement:
    """A value written into the statement's text rather than sent as a parameter.

    For a LIMIT or OFFSET: PostgreSQL cannot cost a generic plan for a parameter there, so it planned every list
    statement anew on every request (custom plans only, bench/README.md); each page size and offset gets a
    statement of its own, planned once. Not on SQLite, whose planner took another index for the signed-in home
    list with the number written in (6 -> 160 ms at 100k threads). For the side lists' constants, see ``_is``.
    """
    return bindparam(None, value, type_=type_, literal_execute=True)


def page_keys(query: Select, key: ColumnElement, page: int, per_page: int) -> Select:
    """The keys of one page of ``query`` (and one more), in its order.

    Deep in a list, OFFSET walks past every earlier row; asked for the keys alone, with an index that holds the
    list's order and the columns of its conditions, the database skips them in the index and loads, joins and
    renders only the page's own rows.
    """
    return query.with_only_columns(key).limit(per_page + 1).offset((clamp_page(page) - 1) * per_page)


LIST_OPTIONS = (selectinload(Thread.author), selectinload(Thread.space), selectinload(Thread.tags))
OPEN_STATUSES = (ThreadStatus.OPEN, ThreadStatus.ANSWERED, ThreadStatus.NEEDS_STAFF)
STATUS_FILTERS = {s.value: s for s in ThreadStatus}
LIST_KINDS = ("latest", "unanswered", "org_open", "needs_staff")
BRIEF_COLUMNS = (Thread.id, Thread.title, Thread.last_activity_at)


def _is(column: Any, value: Any) -> ColumnElement[bool]:
    """``column == value`` with the value written into the statement: the side lists' partial indexes
    (``ix_thread_unanswered``, ``ix_thread_needs_staff``) hold only rows of these values, and PostgreSQL can use
    them in a plan made once for every request only when the statement itself says the value."""
    return column == _inline(value, column.type)


_OPEN_STATUSES = bindparam(None, list(OPEN_STATUSES), expanding=True, type_=Thread.status.type, literal_execute=True)


def threads_query(user: User | None, *, space_id: int | None = None, status: str | None = None,
                  tag: str | None = None, only: str = "latest", brief: bool = False) -> Select:
    """Visible threads, newest activity first, narrowed by space, status, tag or one of ``LIST_KINDS``.

    ``brief`` lists (the home page's side lists: titles and ages) read only ``BRIEF_COLUMNS``: no authors, spaces
    and tags, nor the texts and snapshots a ``Thread`` would load.
    """
    query = select(*BRIEF_COLUMNS) if brief else select(Thread)
    query = query.where(permissions.visible_threads(user))
    if space_id is not None:
        query = query.where(Thread.space_id == space_id)
    if status in STATUS_FILTERS:
        query = query.where(Thread.status == STATUS_FILTERS[status])
    if tag:
        query = query.where(Thread.tags.any(Tag.name == tag))
    if only == "unanswered":
        query = query.where(_is(Thread.kind, ThreadKind.QUESTION), _is(Thread.reply_count, 0),
                            Thread.status.in_(_OPEN_STATUSES))
    elif only == "org_open":
        org_id = user.organisation_id if _signed_in(user) else -1
        query = query.where(Thread.organisation_id == org_id, _is(Thread.kind, ThreadKind.QUESTION),
                            Thread.status.in_(_OPEN_STATUSES))
    elif only == "needs_staff":
        query = query.where(_is(Thread.status, ThreadStatus.NEEDS_STAFF))
    if space_id is not None:
        query = query.order_by(Thread.is_pinned.desc())  # pinned threads lead their space
    return query.order_by(Thread.last_activity_at.desc(), Thread.id.desc())


@dataclass(frozen=True, slots=True)
class Named:
    name: str


@dataclass(frozen=True, slots=True)
class ListSpace:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class ListAuthor:
    display_name: str
    organisation: Named


@dataclass(slots=True)
class ListThread:
    """A thread as the home and space lists show it (``_board.html``'s ``thread_row``): plain values.

    Read in one statement with its author, organisation and space, and its tags in one more for the page; loading
    the page's threads as ORM objects was about a quarter of the home page's time (bench/README.md).
    """

    id: int
    title: str
    kind: ThreadKind
    status: ThreadStatus
    visibility: Visibility
    is_pinned: bool
    is_locked: bool
    reply_count: int
    last_activity_at: datetime
    space: ListSpace
    author: ListAuthor
    tags: list[Named] = field(default_factory=list)


LIST_ROW_COLUMNS = (Thread.id, Thread.title, Thread.kind, Thread.status, Thread.visibility, Thread.is_pinned,
                    Thread.is_locked, Thread.reply_count, Thread.last_activity_at, Space.slug, Space.name,
                    User.display_name, Organisation.name.label("organisation_name"))


def list_threads(user: User | None, page: int, per_page: int, **filters: Any) -> Page:
    """One page of ``threads_query``: rows of ``BRIEF_COLUMNS`` for a ``brief`` list, else ``ListThread``s.

    The page's statement is built once per process for every reader with the same ``permissions.visibility_key``
    (and organisation, which the "org_open" list reads) and the same filters and page: building it cost more than
    running it on the home page (bench/README.md).
    """
    page = clamp_page(page)
    dialect = db.session.get_bind().dialect.name
    key = (permissions.visibility_key(user), user.organisation_id if _signed_in(user) else None,
           tuple(sorted(filters.items())), page, per_page, dialect)
    statement = _LIST_STATEMENTS.get(key)
    if statement is None:
        statement = _list_statement(threads_query(user, **filters), page, per_page, bool(filters.get("brief")))
        _remember(_LIST_STATEMENTS, key, statement)
    rows = _kept(("list", *key), lambda: _rows(statement) if filters.get("brief") else _list_threads(statement))
    return Page.of_rows(rows, page, per_page)


MAX_REMEMBERED = 2048  # statements, and kept lists per database
_LIST_STATEMENTS: dict[tuple, Select] = {}
_KEPT_LISTS: weakref.WeakKeyDictionary[Engine, dict[tuple, tuple[int, float, Any]]] = weakref.WeakKeyDictionary()


def _kept(key: tuple, read: Callable[[], Any]) -> Any:
    """What ``read`` returns, kept per process and database under the board's generation: served again to readers
    with the same key until a commit changes what lists show (``generation``), or ``LIST_CACHE_SECONDS`` pass.

    The key holds everything the value depends on besides the data (the reader's ``visibility_key``, filters,
    page); the values are plain rows that nothing changes after they are read, shared by the threads of a worker.
    """
    seconds = current_app.config["LIST_CACHE_SECONDS"]
    current = generation.current(db.session()) if seconds > 0 else None
    if current is None:
        return read()
    kept = _KEPT_LISTS.setdefault(db.session.get_bind(), {})
    now = time.monotonic()
    held = kept.get(key)
    # Equal, not at least: a database restored from a backup counts from an earlier number again.
    if held is not None and held[0] == current and now - held[1] < seconds:
        return held[2]
    value = read()
    _remember(kept, key, (current, now, value))
    return value


def _remember(store: dict, key: tuple, value: Any) -> None:
    if len(store) >= MAX_REMEMBERED:
        store.clear()  # a page number or tag from every URL must not grow it without bound
    store[key] = value


def _list_statement(query: Select, page: int, per_page: int, brief: bool) -> Select:
    """The statement of one page of ``query`` (a ``threads_query``), limited as ``fetch_page`` limits it: its
    ``BRIEF_COLUMNS`` for a brief list, else the columns a ``ListThread`` shows, with its author and space."""
    limited = limit_page(query, page, per_page, key=Thread.id)
    if brief:
        return limited
    return (limited.with_only_columns(*LIST_ROW_COLUMNS)
            .join(User, User.id == Thread.author_id).join(Space, Space.id == Thread.space_id)
            .join(Organisation, Organisation.id == User.organisation_id))


def _rows(query: Select) -> list:
    return list(db.session.execute(query))


def _list_threads(statement: Select) -> list[ListThread]:
    """The threads ``statement`` (a ``_list_statement``) reads, with their tags."""
    rows = db.session.execute(statement).all()
    threads = [ListThread(r.id, r.title, r.kind, r.status, r.visibility, r.is_pinned, r.is_locked, r.reply_count,
                          r.last_activity_at, ListSpace(r.slug, r.name),
                          ListAuthor(r.display_name, Named(r.organisation_name))) for r in rows]
    if threads:
        by_id = {thread.id: thread for thread in threads}
        for thread_id, name in db.session.execute(_tags_of_threads(), {"thread_ids": list(by_id)}):
            by_id[thread_id].tags.append(Named(name))
    return threads


@functools.cache
def _tags_of_threads() -> Select:
    return (select(thread_tag.c.thread_id, Tag.name).join(Tag, Tag.id == thread_tag.c.tag_id)
            .where(thread_tag.c.thread_id.in_(bindparam("thread_ids", expanding=True)))
            .order_by(thread_tag.c.thread_id, Tag.name))


def home_spaces(user: User | None) -> list:
    """The spaces the home page lists for this user, as rows of what it shows (slug, name, default visibility,
    description), in the admins' order; kept per process like the lists."""
    def read() -> list:
        return list(db.session.execute(
            _spaces_query(user, Space.slug, Space.name, Space.default_visibility, Space.description)))
    return _kept(("spaces", permissions.visibility_key(user)), read)


def spaces_for(user: User | None) -> list[Space]:
    """The spaces this user may see, in the admins' order."""
    return list(db.session.execute(_spaces_query(user, Space)).scalars())


def _spaces_query(user: User | None, *columns: Any) -> Select:
    return select(*columns).where(permissions.visible_spaces(user)).order_by(Space.position, Space.name)


def space_by_slug(user: User | None, slug: str) -> Space | None:
    """The space, or None when it is missing or hidden from this user."""
    if "\x00" in slug:  # PostgreSQL refuses NUL in text; no slug has one
        return None
    space = db.session.execute(select(Space).where(Space.slug == slug)).scalar_one_or_none()
    if space is None or not permissions.can_view_space(user, space):
        return None
    return space


def postable_spaces(user: User) -> list[Space]:
    return [s for s in spaces_for(user) if permissions.can_post_in_space(user, s)]


def starting_space(spaces: list[Space], wanted_slug: str | None) -> Space | None:
    """The space the ask page starts in: the one asked for, else the first where questions belong (not an
    announcements space, even for the employees who may post there)."""
    wanted = next((s for s in spaces if wanted_slug and s.slug == wanted_slug), None)
    return wanted or next((s for s in spaces if not s.staff_posts_only), spaces[0] if spaces else None)


def own_deployments(user: User) -> list[Deployment]:
    """The deployments of the user's organisation (the ask and confirm pickers)."""
    return list(db.session.execute(_own_deployments_query(), {"organisation_id": user.organisation_id}).scalars())


@functools.cache
def _own_deployments_query() -> Select:
    # built once per process: the thread page asks it for every customer who may confirm
    return (select(Deployment).where(Deployment.organisation_id == bindparam("organisation_id"))
            .order_by(Deployment.name, Deployment.id))


# --- one thread ----------------------------------------------------------------------------------

def visible_thread(user: User | None, thread_id: int) -> Thread | None:
    """The thread with what its page shows, or None when missing or not visible (both look alike)."""
    if not 0 < thread_id <= MAX_ID:
        return None
    thread = db.session.execute(_thread_page_query(), {"thread_id": thread_id}).scalar_one_or_none()
    if thread is None or not permissions.can_view(user, thread):
        return None
    # The tags by a statement built once: through selectinload's loader they were 340-380 of the 785-822 us the
    # thread's read took (SQLite, 100k threads), by this statement about 80.
    tags = db.session.execute(_tags_of_thread(), {"thread_id": thread.id}).scalars()
    set_committed_value(thread, "tags", list(tags))
    return thread


@functools.cache
def _thread_page_query() -> Select:
    # Built once per process, as the thread page's other fixed statements: building cost more than running.
    return select(Thread).where(Thread.id == bindparam("thread_id")).options(
        joinedload(Thread.author), joinedload(Thread.space), joinedload(Thread.organisation),
        # Many-to-one: joined into the same statement rather than two more round trips.
        joinedload(Thread.accepted_reply).joinedload(Reply.author))


@functools.cache
def _tags_of_thread() -> Select:
    return (select(Tag).join(thread_tag, thread_tag.c.tag_id == Tag.id)
            .where(thread_tag.c.thread_id == bindparam("thread_id")).order_by(Tag.name))


def visible_reply(user: User | None, reply_id: int) -> Reply | None:
    """The reply (with its thread), or None when missing or not visible to this user."""
    if not 0 < reply_id <= MAX_ID:
        return None
    reply = db.session.execute(
        select(Reply).where(Reply.id == reply_id).options(joinedload(Reply.thread))).scalar_one_or_none()
    if reply is None or not permissions.can_view_reply(user, reply):
        return None
    return reply


def _replies_query(user: User | None, thread: Thread) -> Select:
    return select(Reply).where(Reply.thread_id == thread.id, permissions.visible_replies(user))


def reply_page(user: User | None, thread: Thread, page: int, per_page: int) -> Page:
    """One page of the replies this user may see, oldest first, as ``ReplyRow``s with their authors' columns and
    the user's votes.

    Only the columns the page shows are read (not the Markdown source); the count is only asked when the page
    alone cannot tell it (most threads fit on their first page). ``extra["accepted"]``: the accepted answer
    pinned above the replies, as a row too (None without one), from the thread as ``visible_thread`` loaded it.
    """
    reader_id = user.id if _signed_in(user) else None
    page = clamp_page(page)
    items = reply_rows.rows(_reply_page_query(permissions.visible_replies(user), reader_id is not None), {
        "thread_id": thread.id, "reader_id": reader_id, "limit": per_page + 1, "offset": (page - 1) * per_page})
    result = Page.of_rows(items, page, per_page)
    accepted = thread.accepted_reply
    result.extra["accepted"] = reply_rows.row_of(accepted) if accepted is not None else None
    if not result.has_next and (result.items or result.page == 1):
        # Every earlier page was full, so the total follows from this last one.
        result.total = (result.page - 1) * per_page + len(result.items)
    else:
        result.total = db.session.execute(
            _replies_query(user, thread).with_only_columns(func.count(Reply.id))).scalar_one()
    return result


@functools.cache
def _reply_page_query(visible: ColumnElement[bool], signed_in: bool) -> Select:
    """``reply_page``'s statement for one kind of reader (``visible`` is ``permissions.visible_replies``, the same
    expression for each kind), built once: the thread, the reader, the limit and the offset are bind parameters."""
    query = select(Reply).where(Reply.thread_id == bindparam("thread_id"), visible)
    return (reply_rows.with_authors(query, bindparam("reader_id") if signed_in else None).order_by(Reply.id)
            .limit(bindparam("limit")).offset(bindparam("offset")))


def page_of_reply(user: User | None, reply: Reply, per_page: int) -> int:
    """Which replies page shows this reply (for redirects after posting)."""
    before = db.session.execute(
        _replies_query(user, reply.thread).where(Reply.id < reply.id)
        .with_only_columns(func.count(Reply.id))).scalar_one()
    return before // per_page + 1


def confirmations_of(user: User | None, thread: Thread) -> dict[str, Any]:
    """How many deployments confirmed the accepted answer, which of the user's may still confirm, and what the
    page says about versions (``notes``): one read of the confirmations and, when needed, one of the user's
    deployments (with their versions), shared by all three."""
    confirmed = versions.answer_confirmations(thread)
    can_confirm = permissions.can_confirm(user, thread)
    pairs = versions.answer_pairs(thread, confirmed)
    own = own_deployments(user) if _signed_in(user) and (can_confirm or pairs) else []
    done = {deployment_id for deployment_id, _, _ in confirmed}
    reader_pairs = {(d.product_version.product.name, d.product_version.name) for d in own}
    return {"count": len(confirmed), "choices": [d for d in own if d.id not in done] if can_confirm else [],
            "can_confirm": can_confirm, "notes": versions.notes_from(pairs, reader_pairs)}


def revisions_of(*, thread: Thread | None = None, reply: Reply | None = None) -> list[Revision]:
    """Earlier versions, newest first, editors loaded with them."""
    query = select(Revision).options(selectinload(Revision.editor))
    if thread is not None:
        query = query.where(Revision.thread_id == thread.id)
    else:
        query = query.where(Revision.reply_id == reply.id)
    return list(db.session.execute(query.order_by(Revision.id.desc())).scalars())


def tag_named(name: str) -> Tag | None:
    """The tag called ``name``, if there is one (a tag's watch button)."""
    return db.session.execute(select(Tag).where(Tag.name == name)).scalar_one_or_none()
