"""The audit log: who did what to which row, when, with the changed fields before and after.

Services call ``record`` with the row they are changing, *before* they commit, so the entry is saved in
the same transaction as the change (a change that fails leaves no entry). Fields come from SQLAlchemy's
attribute history; created rows (recorded after their commit, so they have an id) log every column.
The acting user is explicit where a service knows it; otherwise it comes from ``actor_resolver``, which
the web layer installs (the signed-in user of the current request), so services stay free of Flask-Login.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...labels import label
from ...languages import N_
from ...models import AuditEntry, User

# Installed by forum.views.moderation: () -> the acting user's id, or None outside a signed-in request.
actor_resolver: Callable[[], int | None] | None = None
# Never copied into the log: secrets, what only churns, and what is derived from a logged column
# (rendered HTML from its Markdown, a pattern's centroid from its members).
_SKIPPED = {"password_hash", "session_version", "token_hash", "body_html", "problem_html", "steps_html", "centroid",
            "last_seen_at", "updated_at"}


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value if not isinstance(value, str) or len(value) <= 2000 else value[:2000] + "…"
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def snapshot(obj: Any) -> dict[str, Any]:
    """Every column of a row as plain values (secrets left out)."""
    mapper = inspect(obj).mapper
    return {attr.key: _plain(getattr(obj, attr.key)) for attr in mapper.column_attrs if attr.key not in _SKIPPED}


def changes(obj: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(before, after) of the columns changed since the row was loaded; a clean row gives (None, all)."""
    state = inspect(obj)
    if not state.modified:
        return None, snapshot(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        if attr.key in _SKIPPED:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                before[attr.key], after[attr.key] = _plain(old), _plain(new)
    return before, after


# What an entry says happened, by key: the entry keeps the key and its values (``summary_details``) and the audit
# page writes the sentence in the reader's language; ``summary`` keeps it in English too (all that entries
# written before the keys have, shown as they are).
SUMMARIES = {
    "sso.configure": N_("single sign-on of %(organisation)s"),
    "sso.account_created": N_("%(email)s signed in through %(provider)s for the first time"),
    "two_factor.enable": N_("%(username)s set up an authenticator app"),
    "two_factor.disable": N_("%(username)s turned two-factor sign-in off"),
    "two_factor.reset": N_("second factor of %(username)s reset"),
    "pattern.thread": N_("thread %(thread_id)s: %(title)s"),
    "reply.delete": N_("reply %(reply_id)s in thread %(thread_id)s"),
    "internal_link.create": N_("internal discussion %(internal_id)s about thread %(thread_id)s"),
    "thread.assign": N_("thread %(thread_id)s to %(username)s"),
    "flag.review": N_("%(reason)s flag on thread %(thread_id)s"),
    "space_moderator": N_("%(username)s in %(space)s"),
    "idea.status": N_("idea %(thread_id)s: %(status)s"),
    "pattern.idea": N_("pattern %(pattern_id)s waits on idea %(thread_id)s"),
    "pattern.no_idea": N_("pattern %(pattern_id)s: no idea"),
    "customer_messages.allowed": N_("%(organisation)s: messages with other customers allowed"),
    "customer_messages.off": N_("%(organisation)s: messages with other customers off"),
    "message_report": N_("report %(report_id)s on message %(message_id)s"),
}
_LABELLED = {"reason", "status"}  # stored values (spam, planned) shown through their labels


def _english(key: str, params: dict) -> str:
    return SUMMARIES[key] % {k: (str(v).replace("_", " ") if k in _LABELLED else v) for k, v in params.items()}


def summary_text(entry: AuditEntry) -> str:
    """What the entry says happened, in the reader's language (the stored English text for older entries)."""
    details = entry.summary_details or {}
    key, params = details.get("key"), details.get("params")
    if key not in SUMMARIES or not isinstance(params, dict):
        return entry.summary or ""
    shown = {k: (label(v) if k in _LABELLED else v) for k, v in params.items()}
    try:
        return gettext(SUMMARIES[key], **shown)
    except (KeyError, TypeError, ValueError):  # values that no longer fit the sentence: the stored text
        return entry.summary or ""


WORD_CHARS = 60


def _words(value: Any) -> str:
    """A logged value as a reader says it: yes/no, lists joined, identifiers with spaces, long text cut."""
    if value is None or value == "" or value == [] or value == {}:
        return gettext("(none)")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        text = ", ".join(_words(v) for v in value)
    elif isinstance(value, dict):
        text = "; ".join(f"{str(k).replace('_', ' ')}: {_words(v)}" for k, v in value.items())
    elif isinstance(value, str) and value.replace("_", "").isalpha() and value.islower():
        text = value.replace("_", " ")  # an enum value such as org_private
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= WORD_CHARS else text[:WORD_CHARS - 1] + "…"


def change_lines(before: dict | None, after: dict | None) -> list[str]:
    """An entry's changes in words, by field: "is locked: no → yes"; a created row lists what it was given.
    Called when the page is rendered: yes, no, (none) and (removed) are in the reader's language."""
    before, after = before or {}, after or {}
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = key.replace("_", " ")
        if key not in before:
            if new is not None:
                lines.append(f"{name}: {_words(new)}")
        elif key not in after:
            lines.append(f"{name}: {_words(old)} → {gettext('(removed)')}")
        else:
            lines.append(f"{name}: {_words(old)} → {_words(new)}")
    return lines


def _actor_id(actor: User | int | None) -> int | None:
    if isinstance(actor, int):
        return actor
    if actor is not None:
        return actor.id
    return actor_resolver() if actor_resolver is not None else None


def acting_user_id() -> int | None:
    """The signed-in user of the current request (as the log would name them), or None."""
    return _actor_id(None)


def record(action: str, target: Any = None, *, actor: User | int | None = None,
           before: dict | None = None, after: dict | None = None, summary: str = "",
           says: tuple[str, dict] | None = None, commit: bool = False) -> AuditEntry:
    """Add one entry to the session (committed with the caller's change, or now with ``commit``).

    Without ``before``/``after`` they come from ``target``'s pending changes (or its columns when clean).
    ``says`` is a ``SUMMARIES`` key with its values: the summary, written in the reader's language when shown;
    ``summary`` is a plain one (a title, a name: what members wrote, shown as it is).
    """
    if target is not None and before is None and after is None:
        before, after = changes(target)
    details = None
    if says is not None:
        key, params = says
        params = {k: _plain(v) for k, v in params.items()}
        summary, details = _english(key, params), {"key": key, "params": params}
    entry = AuditEntry(
        actor_id=_actor_id(actor), action=action[:60],
        target_type=(target.__tablename__ if target is not None else "")[:40],
        target_id=getattr(target, "id", None) if target is not None else None,
        summary=summary[:300], summary_details=details, before=before, after=after)
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry


def entries_query(action: str = "", actor: str = "", target_type: str = "", target_id: int | None = None) -> Select:
    """Audit entries, newest first, narrowed by an action prefix, actor username, target type and id."""
    query = select(AuditEntry).options(selectinload(AuditEntry.actor))
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.join(User, AuditEntry.actor_id == User.id).where(User.username == actor)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def action_names() -> list[str]:
    """The distinct actions logged so far (the filter's choices)."""
    return list(db.session.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).scalars())
