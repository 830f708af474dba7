"""The deflection metric: what the ask page suggested, what the asker opened, and whether they posted.

Every ask-page visit gets a random ``draft_key`` (made by the page's script and sent with the ask form).
Impressions are recorded by the server when it returns suggestions (once per draft and suggestion),
clicks by the page when a suggestion is opened, and ``posted`` when that draft's question is posted.
A **deflection** is a draft that opened a suggestion and never posted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import SuggestionEvent, Thread, User

DRAFT_KEY = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
IMPRESSION, CLICK, POSTED = "impression", "click", "posted"
_clicks = aliased(SuggestionEvent, name="clicked")


def valid_draft_key(value: object) -> str | None:
    """The key when it looks like one the page makes, else None (never trusted further than that)."""
    return value if isinstance(value, str) and DRAFT_KEY.match(value) else None


def record_impressions(user: User, draft_key: str | None, thread_ids: list[int],
                       playbook_id: int | None = None) -> int:
    """Record suggestions shown to this draft; each suggestion counts once per draft. Returns how many new."""
    draft_key = valid_draft_key(draft_key)
    if draft_key is None or (not thread_ids and playbook_id is None):
        return 0
    seen = db.session.execute(select(SuggestionEvent.thread_id, SuggestionEvent.playbook_id).where(
        SuggestionEvent.draft_key == draft_key, SuggestionEvent.kind == IMPRESSION)).all()
    seen_threads = {row[0] for row in seen if row[0] is not None}
    seen_playbooks = {row[1] for row in seen if row[1] is not None}
    new = [SuggestionEvent(draft_key=draft_key, kind=IMPRESSION, user_id=user.id, thread_id=tid)
           for tid in dict.fromkeys(thread_ids) if tid not in seen_threads]
    if playbook_id is not None and playbook_id not in seen_playbooks:
        new.append(SuggestionEvent(draft_key=draft_key, kind=IMPRESSION, user_id=user.id, playbook_id=playbook_id))
    if new:
        db.session.add_all(new)
        db.session.commit()
    return len(new)


def record_click(user: User, draft_key: str | None, *, thread_id: int | None = None,
                 playbook_id: int | None = None) -> bool:
    """Record that the asker opened a suggestion; only suggestions this draft was shown count."""
    draft_key = valid_draft_key(draft_key)
    if draft_key is None or (thread_id is None) == (playbook_id is None):
        return False
    target = (SuggestionEvent.thread_id == thread_id if thread_id is not None
              else SuggestionEvent.playbook_id == playbook_id)
    shown = db.session.execute(select(SuggestionEvent.id).where(
        SuggestionEvent.draft_key == draft_key, SuggestionEvent.kind == IMPRESSION,
        SuggestionEvent.user_id == user.id, target).limit(1)).first()
    if shown is None:
        return False
    db.session.add(SuggestionEvent(draft_key=draft_key, kind=CLICK, user_id=user.id, thread_id=thread_id,
                                   playbook_id=playbook_id))
    db.session.commit()
    return True


def record_posted(user: User, draft_key: str | None, thread: Thread) -> bool:
    """The asker posted this draft's question anyway (recorded once, and only for drafts shown suggestions)."""
    draft_key = valid_draft_key(draft_key)
    if draft_key is None:
        return False
    kinds = set(db.session.execute(select(SuggestionEvent.kind).where(
        SuggestionEvent.draft_key == draft_key, SuggestionEvent.user_id == user.id)).scalars())
    if IMPRESSION not in kinds or POSTED in kinds:
        return False
    db.session.add(SuggestionEvent(draft_key=draft_key, kind=POSTED, user_id=user.id, thread_id=thread.id))
    db.session.commit()
    return True


@dataclass(frozen=True)
class DeflectionStats:
    """Figures since a date: events, drafts, and the share of drafts shown suggestions that were deflected."""

    impressions: int
    clicks: int
    posted: int
    deflections: int
    drafts: int  # drafts that were shown at least one suggestion

    @property
    def rate(self) -> float:
        """Deflections per draft shown suggestions (0.0 when there were none)."""
        return self.deflections / self.drafts if self.drafts else 0.0


def deflection_stats(since: datetime | None = None) -> DeflectionStats:
    """Impressions, clicks, posted drafts and deflections (drafts that opened a suggestion and never posted)."""
    when = SuggestionEvent.created_at >= since if since is not None else None

    def _where(*conditions):
        return [c for c in (*conditions, when) if c is not None]

    counts = dict(db.session.execute(
        select(SuggestionEvent.kind, func.count(SuggestionEvent.id)).where(*_where())
        .group_by(SuggestionEvent.kind)).all())
    drafts = db.session.execute(select(func.count(distinct(SuggestionEvent.draft_key))).where(
        *_where(SuggestionEvent.kind == IMPRESSION))).scalar_one()
    posted = db.session.execute(select(func.count(distinct(SuggestionEvent.draft_key))).where(
        *_where(SuggestionEvent.kind == POSTED))).scalar_one()
    later_post = select(SuggestionEvent.id).where(
        SuggestionEvent.kind == POSTED, SuggestionEvent.draft_key == _clicks.draft_key).exists()
    deflections = db.session.execute(select(func.count(distinct(_clicks.draft_key))).where(
        and_(_clicks.kind == CLICK, ~later_post,
             *([_clicks.created_at >= since] if since is not None else [])))).scalar_one()
    return DeflectionStats(impressions=counts.get(IMPRESSION, 0), clicks=counts.get(CLICK, 0), posted=posted,
                           deflections=deflections, drafts=drafts)

