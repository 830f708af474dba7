"""The one place that decides who may see or do what.

Visibility has two faces that must always agree: ``can_view(user, thread)`` for one loaded thread and
``visible_threads(user)`` as a SQL filter for every list, count, search and feed. Anything that shows
threads, replies or what they contain goes through these functions.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from sqlalchemy import ColumnElement, and_, false, or_, select, true

from .extensions import db
from .models import (
    WEBHOOK_EVENTS,
    Engagement,
    Flag,
    MemberBlock,
    Organisation,
    OrgKind,
    Playbook,
    Reply,
    Role,
    Space,
    SpaceKind,
    SpaceModerator,
    Thread,
    ThreadKind,
    User,
    Visibility,
    Webhook,
)


class PermissionDenied(Exception):
    """Raised by services when the acting user may not do what was asked."""


# Where answers are remembered for one request, so a page checking many replies of one thread asks once: the
# web layer installs a function giving the current request's dict (``forum.auth.request_memo``); None, or no
# request (a CLI command, a worker), remembers nothing.
request_memo: Callable[[], dict | None] | None = None


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_employee(user: User | None) -> bool:
    return _signed_in(user) and user.role is Role.EMPLOYEE


def is_moderator(user: User | None) -> bool:
    return is_employee(user) and (user.is_moderator or user.is_admin)


def is_admin(user: User | None) -> bool:
    return is_employee(user) and user.is_admin


def is_lead(user: User | None) -> bool:
    return is_employee(user) and (user.is_lead or user.is_admin)


def leads() -> ColumnElement[bool]:
    """A WHERE clause on ``User`` that keeps exactly the members ``is_lead`` says yes to (whom lead news goes to)."""
    return and_(or_(User.is_lead.is_(True), User.is_admin.is_(True)),
                User.organisation_id.in_(select(Organisation.id).where(Organisation.kind == OrgKind.VENDOR)))


def public_read_enabled() -> bool:
    return bool(current_app.config.get("PUBLIC_READ"))


def engaged_customer_ids(user: User) -> set[int]:
    """Customer organisations whose org-private threads this user's partner firm may see."""
    if user.role is not Role.PARTNER:
        return set()

    memo = _request_memo()  # remembered for the current request only
    key = ("engaged", user.organisation_id)
    if memo is not None and key in memo:
        return set(memo[key])
    rows = db.session.execute(
        select(Engagement.customer_id).where(Engagement.partner_id == user.organisation_id))
    ids = {row[0] for row in rows}
    if memo is not None:
        memo[key] = frozenset(ids)
    return ids


def _request_memo() -> dict | None:
    return request_memo() if request_memo is not None else None


# --- threads -------------------------------------------------------------------------------------

def can_view(user: User | None, thread: Thread) -> bool:
    """May this user see this thread at all? A refusal must look exactly like a missing thread."""
    if thread.merged_into_id is not None:
        return False  # a merged thread lives on only as a redirect to its target
    if thread.hidden_at is not None and not is_employee(user):
        return False  # hidden by a moderator: employees (moderators among them) only
    if not _signed_in(user):
        return public_read_enabled() and thread.visibility is Visibility.PUBLIC
    if user.role is Role.EMPLOYEE:
        return True
    if thread.visibility is Visibility.PUBLIC:
        return True
    if thread.visibility is Visibility.INTERNAL:
        return False
    # Org-private: the owning organisation and the partners engaged with it.
    if thread.organisation_id == user.organisation_id:
        return True
    return thread.organisation_id in engaged_customer_ids(user)


def visible_threads(user: User | None) -> ColumnElement[bool]:
    """A WHERE clause on ``Thread`` that keeps exactly the threads ``can_view`` allows."""
    not_merged = Thread.merged_into_id.is_(None)
    if is_employee(user):
        return not_merged
    return and_(not_merged, Thread.hidden_at.is_(None), _visible_unmoderated(user))


def visibility_key(user: User | None) -> tuple:
    """What ``visible_threads(user)`` depends on, as a value: two readers with equal keys get the same clause, so a
    statement built around it for one may serve the other (``pages.list_threads`` keeps them)."""
    if is_employee(user):
        return ("employee",)
    if not _signed_in(user):
        return ("anonymous", public_read_enabled())
    return (user.role.value, user.organisation_id)


def _visible_unmoderated(user: User | None) -> ColumnElement[bool]:
    """``visible_threads`` for a non-employee, before hidden and merged threads are taken out."""
    if not _signed_in(user):
        if public_read_enabled():
            return Thread.visibility == Visibility.PUBLIC
        return false()
    own_or_engaged = Thread.organisation_id == user.organisation_id
    if user.role is Role.PARTNER:
        # Only partner firms gain sight through engagements, whatever rows the table holds.
        own_or_engaged = or_(own_or_engaged, Thread.organisation_id.in_(
            select(Engagement.customer_id).where(Engagement.partner_id == user.organisation_id)
            .scalar_subquery()))
    return or_(
        Thread.visibility == Visibility.PUBLIC,
        and_(Thread.visibility == Visibility.ORG_PRIVATE, own_or_engaged),
    )


def thread_readers(thread: Thread) -> ColumnElement[bool]:
    """A WHERE clause on ``User`` that keeps exactly the signed-in members ``can_view`` lets see this thread
    (whom the composer may offer to @mention); the twin of ``can_view`` seen from the thread's side."""
    def of_kind(kind: OrgKind) -> ColumnElement[bool]:
        return User.organisation_id.in_(select(Organisation.id).where(Organisation.kind == kind))

    employees = of_kind(OrgKind.VENDOR)
    if thread.merged_into_id is not None:
        return false()
    if thread.hidden_at is not None or thread.visibility is Visibility.INTERNAL:
        return employees
    if thread.visibility is Visibility.PUBLIC:
        return true()
    engaged_partners = and_(of_kind(OrgKind.PARTNER), User.organisation_id.in_(
        select(Engagement.partner_id).where(Engagement.customer_id == thread.organisation_id)))
    return or_(employees, User.organisation_id == thread.organisation_id, engaged_partners)


def visibilities_user_may_choose(user: User) -> list[Visibility]:
    """Which visibilities a user may give a thread they start."""
    if is_employee(user):
        return [Visibility.PUBLIC, Visibility.ORG_PRIVATE, Visibility.INTERNAL]
    return [Visibility.PUBLIC, Visibility.ORG_PRIVATE]


def kinds_user_may_choose(user: User) -> list[ThreadKind]:
    """Announcements come from the vendor; everyone may ask or start a discussion."""
    if is_employee(user):
        return [ThreadKind.QUESTION, ThreadKind.DISCUSSION, ThreadKind.ANNOUNCEMENT]
    return [ThreadKind.QUESTION, ThreadKind.DISCUSSION]


def can_post_in_space(user: User | None, space: Space) -> bool:
    """Start a thread there: staff rooms and the vendor's announcement spaces take new threads from employees only
    (customers and partners still read and reply to announcements)."""
    if not _signed_in(user):
        return False
    if space.default_visibility is Visibility.INTERNAL or space.staff_posts_only:
        return is_employee(user)
    return True


def can_view_space(user: User | None, space: Space) -> bool:
    if space.default_visibility is Visibility.INTERNAL:
        return is_employee(user)
    return _signed_in(user) or public_read_enabled()


def visible_spaces(user: User | None) -> ColumnElement[bool]:
    """SQL twin of ``can_view_space``."""
    if is_employee(user):
        return true()
    if not _signed_in(user) and not public_read_enabled():
        return false()
    return Space.default_visibility != Visibility.INTERNAL


# --- replies -------------------------------------------------------------------------------------

def can_view_reply(user: User | None, reply: Reply) -> bool:
    """Staff notes are for employees only; everything else follows the thread."""
    if reply.is_staff_note and not is_employee(user):
        return False
    return can_view(user, reply.thread)


def visible_replies(user: User | None) -> ColumnElement[bool]:
    """A WHERE clause on ``Reply`` (its thread joined or not) hiding staff notes from non-employees.

    Callers combine it with ``visible_threads`` on the reply's thread.
    """
    # The same two expressions every time: a statement built around one can be kept and reused (keyed by it).
    return _ALL_REPLIES if is_employee(user) else _NO_STAFF_NOTES


_ALL_REPLIES = true()
_NO_STAFF_NOTES = Reply.is_staff_note.is_(False)


def can_see_deleted_text(user: User | None) -> bool:
    return is_moderator(user)


def can_reply(user: User | None, thread: Thread) -> bool:
    if not _signed_in(user) or not can_view(user, thread):
        return False
    if thread.is_locked and not can_moderate_space(user, thread.space_id):
        return False
    if thread.kind is ThreadKind.ANNOUNCEMENT:
        return is_employee(user)
    return True


def can_post_staff_note(user: User | None, thread: Thread) -> bool:
    return is_employee(user) and can_view(user, thread)


def can_edit_thread(user: User | None, thread: Thread) -> bool:
    if not _signed_in(user) or not can_view(user, thread):
        return False
    return thread.author_id == user.id or is_moderator(user)


def can_edit_reply(user: User | None, reply: Reply) -> bool:
    if not _signed_in(user) or reply.is_deleted or not can_view_reply(user, reply):
        return False
    return reply.author_id == user.id or is_moderator(user)


def can_delete_reply(user: User | None, reply: Reply) -> bool:
    """Soft delete is a moderator's tool (global, or of the thread's space)."""
    return can_view_reply(user, reply) and can_moderate_space(user, reply.thread.space_id)


def can_view_revisions(user: User | None, thread: Thread, reply: Reply | None = None) -> bool:
    """Earlier text may hold what its author removed on purpose (a host name, a key): author and moderators."""
    if not _signed_in(user):
        return False
    if reply is not None:
        if not can_view_reply(user, reply) or (reply.is_deleted and not can_see_deleted_text(user)):
            return False
        return reply.author_id == user.id or is_moderator(user)
    return can_view(user, thread) and (thread.author_id == user.id or is_moderator(user))


def can_accept(user: User | None, thread: Thread) -> bool:
    """The asker, an org admin of the asking organisation, or an employee picks the answer."""
    if not _signed_in(user) or thread.kind is not ThreadKind.QUESTION or not can_view(user, thread):
        return False
    if is_employee(user) or thread.author_id == user.id:
        return True
    return user.is_org_admin and user.organisation_id == thread.organisation_id


def can_accept_reply(user: User | None, reply: Reply) -> bool:
    return (can_accept(user, reply.thread) and not reply.is_staff_note and not reply.is_deleted)


def can_ask_for_staff(user: User | None, thread: Thread) -> bool:
    return can_accept(user, thread) and not is_employee(user)


def can_vote(user: User | None, reply: Reply) -> bool:
    if not _signed_in(user) or reply.is_deleted or not can_view_reply(user, reply):
        return False
    return reply.author_id != user.id


def can_confirm(user: User | None, thread: Thread) -> bool:
    """'Worked for us too' comes from another customer organisation with a deployment of its own."""
    if not _signed_in(user) or user.role is not Role.CUSTOMER:
        return False
    if thread.accepted_reply_id is None or not can_view(user, thread):
        return False
    return thread.organisation_id != user.organisation_id


# --- attachments ---------------------------------------------------------------------------------

def can_view_attachment(user: User | None, attachment) -> bool:
    """A file is seen by whoever sees its post: the question's by the thread's readers, a reply's by the
    reply's; a removed reply's files go with its text (moderators only), a file taken off its post by nobody."""
    if attachment.deleted_at is not None:
        return False
    if attachment.reply_id is None:
        return can_view(user, attachment.thread)
    reply = attachment.reply
    if reply.is_deleted and not can_see_deleted_text(user):
        return False
    return can_view_reply(user, reply)


def can_attach(user: User | None, thread: Thread, reply: Reply | None = None) -> bool:
    """Files go on a post by whoever may edit it (its author, or a moderator), while it is there to edit."""
    if reply is None:
        return can_edit_thread(user, thread)
    return can_edit_reply(user, reply)


def can_remove_attachment(user: User | None, attachment) -> bool:
    """Its uploader, whoever may edit its post, or a moderator of the thread's space, who can see it."""
    if not _signed_in(user) or not can_view_attachment(user, attachment):
        return False
    if attachment.uploader_id == user.id or can_moderate_space(user, attachment.thread.space_id):
        return True
    return can_attach(user, attachment.thread, attachment.reply)


# --- direct messages -----------------------------------------------------------------------------

def _engaged(partner_org_id: int, customer_org_id: int) -> bool:
    return db.session.execute(select(Engagement.id).where(
        Engagement.partner_id == partner_org_id, Engagement.customer_id == customer_org_id)).first() is not None


def can_message(sender: User | None, recipient: User | None) -> bool:
    """May these two members write to each other (the rule is symmetric)? Vendor staff with anyone; members of
    one organisation; a customer with the partner firms engaged with it; members of two customer organisations
    only where both organisations allow it. Never when either has blocked the other."""
    if not _signed_in(sender) or recipient is None or sender.id == recipient.id:
        return False
    if not recipient.active or recipient.is_placeholder or not sender.active:
        return False
    if not _may_pair(sender, recipient):
        return False
    return db.session.execute(select(MemberBlock.id).where(or_(
        and_(MemberBlock.blocker_id == sender.id, MemberBlock.blocked_id == recipient.id),
        and_(MemberBlock.blocker_id == recipient.id, MemberBlock.blocked_id == sender.id)))).first() is None


def _may_pair(a: User, b: User) -> bool:
    if a.role is Role.EMPLOYEE or b.role is Role.EMPLOYEE or a.organisation_id == b.organisation_id:
        return True
    roles = {a.role, b.role}
    if roles == {Role.CUSTOMER, Role.PARTNER}:
        partner, customer = (a, b) if a.role is Role.PARTNER else (b, a)
        return _engaged(partner.organisation_id, customer.organisation_id)
    if roles == {Role.CUSTOMER}:
        return a.organisation.allow_customer_messages and b.organisation.allow_customer_messages
    return False  # two partner firms


def can_start_conversation(user: User | None, others: list[User]) -> bool:
    """Every pair in the conversation may message each other: a group never lets two members reach each other
    when they could not write one to one."""
    people = [user, *others]
    return bool(others) and all(can_message(a, b) for i, a in enumerate(people) for b in people[i + 1:])


def can_view_conversation(user: User | None, member_ids: set[int]) -> bool:
    """A conversation is for its members only: no role, moderators and admins included, reads it otherwise."""
    return _signed_in(user) and user.id in member_ids


def can_send_message(user: User | None, members: list[User]) -> bool:
    """A member writes on while every other member may still be written to (no block, no ended engagement)."""
    if not can_view_conversation(user, {m.id for m in members}):
        return False
    others = [m for m in members if m.id != user.id]
    return bool(others) and all(can_message(user, m) for m in others)


def can_change_customer_messages(user: User | None, organisation: Organisation) -> bool:
    """Whether a customer organisation's members may message other customers: its org admins and vendor admins."""
    if organisation.kind is not OrgKind.CUSTOMER or not _signed_in(user):
        return False
    return is_admin(user) or (user.is_org_admin and user.organisation_id == organisation.id)


def can_review_message_reports(user: User | None) -> bool:
    """Reported messages (and only those, never the rest of their conversation) go to global moderators."""
    return is_moderator(user)


# --- product ideas -------------------------------------------------------------------------------

def is_idea_space(space: Space) -> bool:
    return space.kind is SpaceKind.IDEAS


def is_idea(thread: Thread) -> bool:
    """A thread in an ideas space is an idea."""
    return is_idea_space(thread.space)


def can_vote_idea(user: User | None, thread: Thread) -> bool:
    """One vote per member on an idea they can see (its author too: they want it)."""
    return _signed_in(user) and is_idea(thread) and can_view(user, thread) and thread.merged_into_id is None


def can_set_idea_status(user: User | None, thread: Thread) -> bool:
    """Statuses (under review, planned, shipped, declined) and their public note come from vendor staff."""
    return is_employee(user) and is_idea(thread) and can_view(user, thread)


def can_link_pattern_idea(user: User | None, thread: Thread | None = None) -> bool:
    """Leads record that a pattern's fix is not possible yet, pointing at the idea that would make it so."""
    return can_curate_patterns(user) and (thread is None or (is_idea(thread) and can_view(user, thread)))


# --- organisations and deployments ---------------------------------------------------------------

def can_view_deployments(user: User | None, organisation: Organisation) -> bool:
    """Deployment profiles are the organisation's business, its engaged partners' and the vendor's."""
    if not _signed_in(user):
        return False
    if is_employee(user) or user.organisation_id == organisation.id:
        return True
    return organisation.id in engaged_customer_ids(user)


def can_edit_deployments(user: User | None, organisation: Organisation) -> bool:
    if not _signed_in(user):
        return False
    if is_employee(user):
        return True
    return user.is_org_admin and user.organisation_id == organisation.id


def can_invite(user: User | None, organisation: Organisation) -> bool:
    """Org admins invite into their own organisation; vendor admins into any."""
    if is_admin(user):
        return True
    return _signed_in(user) and user.is_org_admin and user.organisation_id == organisation.id


# --- signing in ----------------------------------------------------------------------------------

def must_use_second_factor(user: User | None) -> bool:
    """Vendor staff see every organisation's private threads: they sign in with a second factor (unless the
    deployment switched the requirement off)."""
    return is_employee(user) and bool(current_app.config.get("TWO_FACTOR_REQUIRED_FOR_STAFF", True))


def can_turn_off_second_factor(user: User | None) -> bool:
    """Members for whom it is optional may turn their own second factor off."""
    return _signed_in(user) and not must_use_second_factor(user)


def can_reset_second_factor(actor: User | None, member: User) -> bool:
    """Admins reset another member's second factor (a lost phone); never their own, which would skip it."""
    return is_admin(actor) and actor.id != member.id


# --- routing questions to people who solved them -------------------------------------------------

def may_be_routed(member: User | None, thread: Thread) -> bool:
    """A question goes only to an active member, not its asker, who may see it (never across visibility)."""
    return (member is not None and member.active and not member.is_placeholder and member.id != thread.author_id
            and can_view(member, thread))


# --- webhooks ------------------------------------------------------------------------------------

THREAD_EVENTS = ("thread.created", "thread.answered", "thread.resolved")


def can_manage_webhooks(user: User | None) -> bool:
    """Vendor admins subscribe URLs to any event; org admins to their own organisation's threads."""
    return is_admin(user) or (_signed_in(user) and user.is_org_admin)


def can_edit_webhook(user: User | None, webhook) -> bool:
    if is_admin(user):
        return True
    return (_signed_in(user) and user.is_org_admin and webhook.organisation_id is not None
            and webhook.organisation_id == user.organisation_id)


def visible_webhooks(user: User | None) -> ColumnElement[bool]:
    """SQL twin of ``can_edit_webhook``: a WHERE clause on ``Webhook``."""
    if is_admin(user):
        return true()
    if _signed_in(user) and user.is_org_admin:
        return Webhook.organisation_id == user.organisation_id
    return false()


def webhook_events_for(user: User | None) -> tuple[str, ...]:
    """The events a webhook of this user may subscribe to (org admins: their threads' events only)."""
    if is_admin(user):
        return WEBHOOK_EVENTS
    return THREAD_EVENTS if can_manage_webhooks(user) else ()


def webhook_may_carry(webhook, subject) -> bool:
    """May this webhook's payload describe ``subject`` (a thread, pattern or playbook)? Only what its owner may
    see now, while the owner may still run such a webhook; an org admin's, only their organisation's threads."""
    owner = webhook.owner
    if owner is None or not owner.active:
        return False
    if webhook.organisation_id is None:
        if not is_admin(owner):
            return False
    elif not (owner.is_org_admin and owner.organisation_id == webhook.organisation_id):
        return False
    if isinstance(subject, Thread):
        return can_view(owner, subject) and (webhook.organisation_id is None
                                             or subject.organisation_id == webhook.organisation_id)
    if isinstance(subject, Playbook):
        return webhook.organisation_id is None and can_view_playbook(owner, subject)
    # A pattern: the vendor's working tool.
    return webhook.organisation_id is None and can_view_patterns(owner)


def can_administer(user: User | None) -> bool:
    return is_admin(user)


def can_view_metrics(user: User | None) -> bool:
    """Measured results are counts over every thread (internal and org-private included): employees only.

    Every employee may already see every thread, so leads and admins see no more than other employees."""
    return is_employee(user)


# --- patterns ------------------------------------------------------------------------------------

def can_view_patterns(user: User | None) -> bool:
    """The common-patterns pages are the vendor's working tool."""
    return is_employee(user)


def can_curate_patterns(user: User | None) -> bool:
    """Leads (and admins) rename, merge, dismiss patterns, file threads and start mining runs."""
    return is_lead(user)


def pattern_visible_aggregate(user: User | None, organisation_count: int) -> bool:
    """Customers and partners see a pattern only as counts, and only when it spans enough organisations."""
    if is_employee(user):
        return True
    if not _signed_in(user):
        return False
    return organisation_count >= int(current_app.config.get("PATTERN_MIN_ORGS", 3))


# --- playbooks -----------------------------------------------------------------------------------

def can_view_playbook(user: User | None, playbook) -> bool:
    """Public playbooks are for every member; anything else (internal) is for employees only."""
    if is_employee(user):
        return True
    if not _signed_in(user) and not public_read_enabled():
        return False
    return playbook.visibility is Visibility.PUBLIC


def visible_playbooks(user: User | None) -> ColumnElement[bool]:
    """SQL twin of ``can_view_playbook``: a WHERE clause on ``Playbook``."""

    # The same three expressions every time, so a statement built around one can be kept (keyed by it).
    if is_employee(user):
        return _ALL_PLAYBOOKS
    if not _signed_in(user) and not public_read_enabled():
        return _NO_PLAYBOOKS
    return _PUBLIC_PLAYBOOKS


_ALL_PLAYBOOKS, _NO_PLAYBOOKS, _PUBLIC_PLAYBOOKS = true(), false(), Playbook.visibility == Visibility.PUBLIC


def can_edit_playbook(user: User | None, playbook=None) -> bool:
    """Leads (and admins) write playbooks: promote a pattern, edit, change visibility."""
    return is_lead(user) and (playbook is None or can_view_playbook(user, playbook))


def can_confirm_playbook(user: User | None, playbook) -> bool:
    """'Worked for us too' on a playbook comes from a customer, with one of their deployments."""
    return _signed_in(user) and user.role is Role.CUSTOMER and can_view_playbook(user, playbook)


# --- moderation and workflow ---------------------------------------------------------------------

def moderated_space_ids(user: User | None) -> set[int]:
    """The spaces this employee moderates by assignment (global moderators need none)."""
    if not is_employee(user):
        return set()

    memo = _request_memo()
    key = ("moderates", user.id)
    if memo is not None and key in memo:
        return set(memo[key])
    ids = set(db.session.execute(
        select(SpaceModerator.space_id).where(SpaceModerator.user_id == user.id)).scalars())
    if memo is not None:
        memo[key] = frozenset(ids)
    return ids


def can_moderate_space(user: User | None, space_id: int) -> bool:
    """Global moderators everywhere; space moderators (employees) only in their spaces."""
    return is_moderator(user) or space_id in moderated_space_ids(user)


def moderated_spaces_clause(user: User | None, column) -> ColumnElement[bool]:
    """SQL twin of ``can_moderate_space`` on a space-id column (the review queue's filter)."""
    if is_moderator(user):
        return true()
    ids = moderated_space_ids(user)
    return column.in_(ids) if ids else false()


def can_moderate_thread(user: User | None, thread: Thread) -> bool:
    """Lock, pin, move, hide, change visibility, merge: a moderator of the thread's space who sees it."""
    return can_view(user, thread) and can_moderate_space(user, thread.space_id)


def can_review_flags(user: User | None) -> bool:
    return is_moderator(user) or bool(moderated_space_ids(user))


def can_view_flagged_text(user: User | None, flag: Flag) -> bool:
    """May this user read the text of a flagged post (in the review queue)? The same rules as reading it in its
    thread: the thread must be visible, a reply visible to them, and a removed reply's text is for moderators."""
    if flag.reply is None:
        return can_view(user, flag.thread)
    if flag.reply.is_deleted and not can_see_deleted_text(user):
        return False
    return can_view_reply(user, flag.reply)


def can_flag(user: User | None, thread: Thread) -> bool:
    """Any signed-in member may report what they can see."""
    return _signed_in(user) and can_view(user, thread)


@dataclass(frozen=True, slots=True)
class ReplyControls:
    """What one reader may do with one reply on its thread's page (each field is the predicate of that name)."""

    vote: bool  # can_vote
    accept: bool  # can_accept_reply
    edit: bool  # can_edit_reply
    delete: bool  # can_delete_reply
    flag: bool  # can_flag, on someone else's reply
    revisions: bool  # can_view_revisions
    deleted_text: bool  # can_see_deleted_text


class ReplyFacts(Protocol):
    """What ``reply_controls`` reads of a reply of the page's thread: a ``Reply``, or the plain row the thread page
    renders (``services/board/reply_rows.py``)."""

    @property
    def id(self) -> int: ...
    @property
    def thread_id(self) -> int: ...
    @property
    def author_id(self) -> int: ...
    @property
    def is_staff_note(self) -> bool: ...
    @property
    def is_deleted(self) -> bool: ...


def reply_controls(user: User | None, thread: Thread, replies: Iterable[Reply | ReplyFacts]) -> dict[int, ReplyControls]:
    """The reply predicates above for every reply of one thread page, each equal to calling it on its own.

    What they share (the reader's role, whether they see and moderate the thread, whether they may accept an
    answer there) is decided once per page instead of four or five times per reply; what is left per reply is
    its author, its state and whether it is a staff note. A reply of another thread (a ``Reply``) gets the full
    predicates.
    """
    signed_in = _signed_in(user)
    reader = user.id if signed_in else None
    employee, moderator = is_employee(user), is_moderator(user)
    sees_thread = can_view(user, thread)
    accepts = can_accept(user, thread)
    moderates = sees_thread and can_moderate_space(user, thread.space_id)
    controls = {}
    for reply in replies:
        if reply.thread_id != thread.id:
            controls[reply.id] = _reply_controls_one_by_one(user, reply)
            continue
        visible = sees_thread and (employee or not reply.is_staff_note)
        live = not reply.is_deleted
        own = reply.author_id == reader
        controls[reply.id] = ReplyControls(
            vote=signed_in and live and visible and not own,
            accept=accepts and live and not reply.is_staff_note,
            edit=signed_in and live and visible and (own or moderator),
            delete=visible and moderates,
            flag=signed_in and sees_thread and not own,
            revisions=signed_in and visible and (live or moderator) and (own or moderator),
            deleted_text=moderator,
        )
    return controls


def _reply_controls_one_by_one(user: User | None, reply: Reply) -> ReplyControls:
    own = _signed_in(user) and reply.author_id == user.id
    return ReplyControls(
        vote=can_vote(user, reply), accept=can_accept_reply(user, reply), edit=can_edit_reply(user, reply),
        delete=can_delete_reply(user, reply), flag=can_flag(user, reply.thread) and not own,
        revisions=can_view_revisions(user, reply.thread, reply), deleted_text=can_see_deleted_text(user))


def can_view_audit(user: User | None) -> bool:
    return is_admin(user)


def can_see_internal_links(user: User | None) -> bool:
    """Links between a thread and its internal discussions are shown to employees only."""
    return is_employee(user)


def can_open_internal_discussion(user: User | None, thread: Thread) -> bool:
    return is_employee(user) and can_view(user, thread) and thread.visibility is not Visibility.INTERNAL


def can_assign(user: User | None, thread: Thread) -> bool:
    """Employees assign escalated threads (to themselves or a colleague) with a due date."""
    return is_employee(user) and can_view(user, thread)


def can_view_queue(user: User | None) -> bool:
    return is_employee(user)


def can_view_overdue(user: User | None) -> bool:
    """Overdue escalations are the leads' list."""
    return is_lead(user)


def exempt_from_new_user_limits(user: User | None) -> bool:
    return is_employee(user)
