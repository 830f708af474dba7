"""Playbooks: the replicable fix for a pattern, with evidence, revisions and "worked for us too".

A lead promotes a pattern: the draft is filled from the pattern's member threads (their deployment
snapshots say where it applies; their accepted answers, ranked by confirmations, are the evidence).
Creating and editing a playbook (publishing it included) is audited with the text before and after.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ... import permissions
from ...extensions import db
from ...markdown import render_markdown
from ...models import (
    Confirmation,
    Deployment,
    MembershipSource,
    Pattern,
    PatternMember,
    Playbook,
    PlaybookConfirmation,
    PlaybookEvidence,
    PlaybookRevision,
    Reply,
    Thread,
    User,
    Visibility,
    utcnow,
)
from ...permissions import PermissionDenied
from .. import background
from ..board.pages import fetch_page
from ..board.threads import ValidationFailed
from ..community import notifications
from ..moderation import audit
from ..webhooks import events as webhook_events
from .drafts import steps_from_answer

APPLIES_TO_KEYS = ("products", "versions", "hosting", "databases", "topologies")
PLAYBOOK_VISIBILITIES = (Visibility.PUBLIC, Visibility.INTERNAL)
MAX_EVIDENCE = 50
_THREAD_REF = re.compile(r"(?:/t/)?(\d{1,10})\b")

__all__ = ["PermissionDenied", "ValidationFailed"]


@dataclass
class PlaybookInput:
    """What a lead writes: the text, where it applies, who sees it and which threads back it."""

    title: str = ""
    problem_md: str = ""
    steps_md: str = ""
    applies_to: dict[str, list[str]] = field(default_factory=dict)
    visibility: Visibility = Visibility.PUBLIC
    evidence_ids: list[int] = field(default_factory=list)


@dataclass
class EvidenceCandidate:
    """A member thread with an accepted answer, and how many deployments confirmed that answer."""

    thread: Thread
    confirmations: int


def parse_list(text: str | None) -> list[str]:
    """Comma- or line-separated values, trimmed, duplicates dropped, order kept."""
    values = [v.strip() for v in re.split(r"[,\n]", text or "")]
    return list(dict.fromkeys(v[:80] for v in values if v))[:30]


def parse_thread_refs(text: str | None) -> list[int]:
    """Thread ids from "12, /t/34, https://forum/t/56" (anything else is ignored)."""
    return list(dict.fromkeys(int(m) for m in _THREAD_REF.findall(text or "") if 0 < int(m) < 2**31))


# --- promoting a pattern -------------------------------------------------------------------------

def pattern_by_id(pattern_id: int | None) -> Pattern | None:
    if pattern_id is None or not 0 < pattern_id < 2**31:
        return None
    return db.session.get(Pattern, pattern_id)


def member_threads(pattern: Pattern) -> list[Thread]:
    """The pattern's threads (not those a lead filed out), accepted answers loaded."""
    return list(db.session.execute(
        select(Thread).join(PatternMember, PatternMember.thread_id == Thread.id)
        .where(PatternMember.pattern_id == pattern.id, PatternMember.source != MembershipSource.EXCLUDED)
        .options(selectinload(Thread.accepted_reply))).scalars())


def evidence_candidates(threads: list[Thread]) -> list[EvidenceCandidate]:
    """Threads with an accepted answer, most confirmed first (the fix that worked most often)."""
    answered = [t for t in threads if t.accepted_reply_id is not None]
    counts = dict(db.session.execute(
        select(Confirmation.reply_id, func.count(Confirmation.id))
        .where(Confirmation.reply_id.in_([t.accepted_reply_id for t in answered]))
        .group_by(Confirmation.reply_id)).all()) if answered else {}
    ranked = [EvidenceCandidate(t, counts.get(t.accepted_reply_id, 0)) for t in answered]
    ranked.sort(key=lambda c: (-c.confirmations, -(c.thread.id)))
    return ranked


def applies_to_from(threads: list[Thread]) -> dict[str, list[str]]:
    """Products, versions, hosting, databases and topologies of the threads' deployment snapshots."""
    found: dict[str, Counter] = {key: Counter() for key in APPLIES_TO_KEYS}
    for thread in threads:
        snap = thread.deployment_snapshot or {}
        if snap.get("product"):
            found["products"][snap["product"]] += 1
            if snap.get("version"):
                found["versions"][f"{snap['product']} {snap['version']}"] += 1
        for key, name in (("hosting", "hosting"), ("databases", "database"), ("topologies", "topology")):
            if snap.get(name):
                found[key][str(snap[name])] += 1
    return {key: [value for value, _n in counter.most_common()] for key, counter in found.items() if counter}


def draft_from_pattern(pattern: Pattern) -> tuple[PlaybookInput, list[EvidenceCandidate]]:
    """A playbook draft for a pattern, and the evidence it may link (pre-selected: the top ten)."""
    threads = member_threads(pattern)
    candidates = evidence_candidates(threads)
    organisations = len({t.organisation_id for t in threads})
    lines = [pattern.description.strip()] if pattern.description.strip() else []
    lines.append(gettext("Seen in %(threads)s threads from %(organisations)s organisations.", threads=len(threads),
                         organisations=organisations))
    # No "Keywords: …" line: the miner's terms describe a cluster, not the problem a reader has.
    if pattern.signatures:
        lines.append(gettext("Error signatures: %(signatures)s",
                             signatures=", ".join(f"`{s}`" for s in pattern.signatures[:5])))
    best = candidates[0].thread.accepted_reply if candidates else None
    draft = PlaybookInput(
        title=pattern.name[:200], problem_md="\n\n".join(lines),
        steps_md=steps_from_answer(best.body_md) if isinstance(best, Reply) and not best.is_deleted else "",
        applies_to=applies_to_from(threads), evidence_ids=[c.thread.id for c in candidates[:10]])
    return draft, candidates


# --- writing -------------------------------------------------------------------------------------

def _check(data: PlaybookInput) -> None:
    if not data.title.strip():
        raise ValidationFailed(gettext("Give the playbook a title."), "title")
    if data.visibility not in PLAYBOOK_VISIBILITIES:
        raise ValidationFailed(gettext("A playbook is public or internal."), "visibility")


def _set_evidence(playbook: Playbook, thread_ids: list[int]) -> None:
    """Link exactly these threads, each with the accepted answer it has now."""
    wanted = list(dict.fromkeys(thread_ids))[:MAX_EVIDENCE]
    threads = {t.id: t for t in db.session.execute(select(Thread).where(Thread.id.in_(wanted))).scalars()}
    missing = [tid for tid in wanted if tid not in threads]
    if missing:
        raise ValidationFailed(gettext('No thread %(value)s.', value=missing[0]), "extra_threads")
    existing = {e.thread_id: e for e in playbook.evidence}
    for tid, row in existing.items():
        if tid not in threads:
            playbook.evidence.remove(row)
    for tid in wanted:
        if tid in existing:
            existing[tid].reply_id = existing[tid].reply_id or threads[tid].accepted_reply_id
        else:
            playbook.evidence.append(PlaybookEvidence(thread_id=tid, reply_id=threads[tid].accepted_reply_id))


def _newlines(text: str | None) -> str:
    # Browsers send CRLF from textareas; stored text uses LF so an unchanged edit compares equal.
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def _apply(playbook: Playbook, data: PlaybookInput) -> None:
    playbook.title = data.title.strip()[:200]
    playbook.problem_md = _newlines(data.problem_md)
    playbook.problem_html = render_markdown(playbook.problem_md)
    playbook.steps_md = _newlines(data.steps_md)
    playbook.steps_html = render_markdown(playbook.steps_md)
    playbook.applies_to = {k: list(data.applies_to.get(k) or []) for k in APPLIES_TO_KEYS if data.applies_to.get(k)}
    playbook.visibility = data.visibility


def _revision(playbook: Playbook, editor: User) -> PlaybookRevision:
    return PlaybookRevision(playbook_id=playbook.id, editor_id=editor.id, title=playbook.title,
                            problem_md=playbook.problem_md, steps_md=playbook.steps_md,
                            applies_to=dict(playbook.applies_to or {}))


def create_playbook(user: User, data: PlaybookInput, pattern: Pattern | None = None) -> Playbook:
    """A new playbook (revision 1 records its first text)."""
    if not permissions.can_edit_playbook(user):
        raise PermissionDenied(gettext("Only implementation leads write playbooks."))
    _check(data)
    playbook = Playbook(author_id=user.id, pattern_id=pattern.id if pattern is not None else None)
    _apply(playbook, data)
    db.session.add(playbook)
    try:
        _set_evidence(playbook, data.evidence_ids)
        db.session.flush()
        db.session.add(_revision(playbook, user))
        audit.record("playbook.create", playbook, actor=user, before=None,
                     after={**audit.snapshot(playbook), "evidence": _evidence_ids(playbook)}, summary=playbook.title)
        hooks = webhook_events.stage("playbook.published", playbook)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    background.dispatch(*hooks)
    return playbook


def update_playbook(user: User, playbook: Playbook, data: PlaybookInput) -> bool:
    """Save an edit; a new revision only when the text or where it applies changed. Returns that."""
    if not permissions.can_edit_playbook(user, playbook):
        raise PermissionDenied(gettext("Only implementation leads edit playbooks."))
    _check(data)
    before = (playbook.title, playbook.problem_md, playbook.steps_md, dict(playbook.applies_to or {}))
    columns_before, evidence_before = audit.snapshot(playbook), _evidence_ids(playbook)
    try:
        _apply(playbook, data)
        _set_evidence(playbook, data.evidence_ids)
        changed = before != (playbook.title, playbook.problem_md, playbook.steps_md, playbook.applies_to)
        if changed:
            db.session.add(_revision(playbook, user))
        _record_edit(user, playbook, columns_before, evidence_before)
        playbook.updated_at = utcnow()
        published = (columns_before.get("visibility") != Visibility.PUBLIC.value
                     and playbook.visibility is Visibility.PUBLIC)
        hooks = webhook_events.stage("playbook.published", playbook) if published else []
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    background.dispatch(*hooks)
    if changed:
        notifications.safely(notifications.playbook_updated, playbook, user)
    return changed


def _evidence_ids(playbook: Playbook) -> list[int]:
    return sorted(e.thread_id for e in playbook.evidence)


def _record_edit(user: User, playbook: Playbook, columns_before: dict, evidence_before: list[int]) -> None:
    """Audit an edit that changed anything; publishing (internal to public) gets its own action name."""
    # Compared with a snapshot rather than the attribute history: the evidence queries autoflush,
    # which clears that history before this runs.
    columns_after = audit.snapshot(playbook)
    changed = [key for key, value in columns_after.items() if columns_before.get(key) != value]
    before = {key: columns_before.get(key) for key in changed}
    after = {key: columns_after[key] for key in changed}
    evidence_after = _evidence_ids(playbook)
    if evidence_after != evidence_before:
        before["evidence"], after["evidence"] = evidence_before, evidence_after
    if not before and not after:
        return
    action = "playbook.update"
    if "visibility" in after:
        action = "playbook.publish" if playbook.visibility is Visibility.PUBLIC else "playbook.unpublish"
    audit.record(action, playbook, actor=user, before=before, after=after, summary=playbook.title)


def confirm_playbook(user: User, playbook: Playbook, deployment: Deployment | None, note: str = "") -> None:
    """'Worked for us too' with one of the user's organisation's deployments (once per deployment)."""
    if not permissions.can_confirm_playbook(user, playbook):
        raise PermissionDenied(gettext("Only customers confirm a playbook."))
    if deployment is None or deployment.organisation_id != user.organisation_id:
        raise ValidationFailed(gettext("Pick one of your organisation's deployments."), "deployment")
    db.session.add(PlaybookConfirmation(playbook_id=playbook.id, user_id=user.id, deployment_id=deployment.id,
                                        product_version_id=deployment.product_version_id,
                                        note=(note or "").strip()[:500]))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed(gettext("That deployment has already confirmed this playbook."), "deployment") from None


# --- reading -------------------------------------------------------------------------------------

def visible_playbook(user: User | None, playbook_id: int) -> Playbook | None:
    """The playbook, or None when missing or hidden from this user (both look alike)."""
    if not 0 < playbook_id < 2**31:
        return None
    playbook = db.session.execute(select(Playbook).where(Playbook.id == playbook_id).options(
        joinedload(Playbook.author), joinedload(Playbook.pattern))).scalar_one_or_none()
    if playbook is None or not permissions.can_view_playbook(user, playbook):
        return None
    return playbook


def replication_counts(playbook_ids: list[int]) -> dict[int, int]:
    """How many deployments confirmed each playbook, in one query."""
    if not playbook_ids:
        return {}
    return dict(db.session.execute(
        select(PlaybookConfirmation.playbook_id, func.count(PlaybookConfirmation.id))
        .where(PlaybookConfirmation.playbook_id.in_(playbook_ids))
        .group_by(PlaybookConfirmation.playbook_id)).all())


def list_playbooks(user: User | None, page: int, per_page: int):
    """One page of the playbooks this user may see, newest first, replication counts in ``extra``."""

    total = db.session.execute(select(func.count(Playbook.id)).where(permissions.visible_playbooks(user))).scalar_one()
    result = fetch_page(select(Playbook).where(permissions.visible_playbooks(user))
                        .order_by(Playbook.updated_at.desc(), Playbook.id.desc()), page, per_page, total=total)
    result.extra["replications"] = replication_counts([p.id for p in result.items])
    return result


def visible_evidence(user: User | None, playbook: Playbook) -> list[PlaybookEvidence]:
    """Evidence links to threads the user may see (the rest are not mentioned at all)."""
    return list(db.session.execute(
        select(PlaybookEvidence).join(Thread, Thread.id == PlaybookEvidence.thread_id)
        .where(PlaybookEvidence.playbook_id == playbook.id, permissions.visible_threads(user))
        .options(selectinload(PlaybookEvidence.thread), selectinload(PlaybookEvidence.reply).selectinload(Reply.author))
        .order_by(PlaybookEvidence.id)).scalars())


def confirmable_deployments(user: User | None, playbook: Playbook) -> list[Deployment]:
    """The user's organisation's deployments that have not confirmed this playbook yet."""
    if not permissions.can_confirm_playbook(user, playbook):
        return []
    done = select(PlaybookConfirmation.deployment_id).where(PlaybookConfirmation.playbook_id == playbook.id)
    return list(db.session.execute(
        select(Deployment).where(Deployment.organisation_id == user.organisation_id, Deployment.id.not_in(done))
        .order_by(Deployment.name, Deployment.id)).scalars())


def revisions_of(playbook: Playbook) -> list[PlaybookRevision]:
    """Every saved version, newest first, editors loaded with them."""
    return list(db.session.execute(
        select(PlaybookRevision).where(PlaybookRevision.playbook_id == playbook.id)
        .options(selectinload(PlaybookRevision.editor)).order_by(PlaybookRevision.id.desc())).scalars())


def playbook_for_thread(user: User | None, thread: Thread) -> Playbook | None:
    """The playbook (visible to the user) that links this thread as evidence or through its pattern."""
    return db.session.execute(_thread_playbook_query(permissions.visible_playbooks(user)),
                              {"thread_id": thread.id}).scalar_one_or_none()


@functools.cache
def _thread_playbook_query(visible: ColumnElement[bool]) -> Select:
    """``playbook_for_thread``'s statement for one kind of reader (``visible`` is ``permissions.visible_playbooks``,
    the same expression for each kind), built once: every thread page asks it."""
    evidence = select(PlaybookEvidence.playbook_id).where(PlaybookEvidence.thread_id == bindparam("thread_id"))
    patterns = select(PatternMember.pattern_id).where(
        PatternMember.thread_id == bindparam("thread_id"), PatternMember.source != MembershipSource.EXCLUDED)
    return (select(Playbook).where(visible, or_(Playbook.id.in_(evidence), Playbook.pattern_id.in_(patterns)))
            .order_by(Playbook.id.in_(evidence).desc(), Playbook.id).limit(1))


def playbook_for_pattern(user: User | None, pattern: Pattern) -> Playbook | None:
    """The newest playbook (visible to the user) promoted from this pattern, for the pattern's page."""
    return db.session.execute(
        select(Playbook).where(Playbook.pattern_id == pattern.id, permissions.visible_playbooks(user))
        .order_by(Playbook.id.desc()).limit(1)).scalar_one_or_none()
