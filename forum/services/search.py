"""Thread search behind one function, so a full-text engine can replace the LIKE search later.

Visibility is applied in SQL before anything else; user text only ever reaches the database as bound
LIKE patterns with ``%``, ``_`` and the escape character escaped, so any input is safe.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from .. import permissions
from ..models import Thread, User
from .thread_pages import LIST_OPTIONS, Page, fetch_page

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
SNIPPET_RADIUS = 80
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Snippet:
    """A piece of text around the first hit, split so the template can mark the hit (and escape all)."""

    before: str
    hit: str
    after: str


def search_terms(query: str | None) -> list[str]:
    """User text to at most ``MAX_TERMS`` lower-case words (NUL and control characters dropped)."""
    text = _CONTROL.sub(" ", (query or "")[:MAX_QUERY_LENGTH])
    terms: list[str] = []
    for word in text.lower().split():
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_threads(user: User | None, query: str | None, page: int, per_page: int) -> Page:
    """Visible threads whose title or body contains every term, newest activity first."""
    terms = search_terms(query)
    if not terms:
        return Page(items=[], page=1, per_page=per_page, has_next=False, total=0)
    matches = [
        or_(Thread.title.ilike(_like_pattern(t), escape="\\"), Thread.body_md.ilike(_like_pattern(t), escape="\\"))
        for t in terms
    ]
    statement = (select(Thread).where(permissions.visible_threads(user)).where(and_(*matches))
                 .options(*LIST_OPTIONS).order_by(Thread.last_activity_at.desc(), Thread.id.desc()))
    result = fetch_page(statement, page, per_page)
    result.extra["snippets"] = {t.id: snippet(t.body_md, terms) for t in result.items}
    result.extra["terms"] = terms
    return result


def snippet(text: str, terms: list[str]) -> Snippet:
    """The text around the first term found (plain text; the template escapes it)."""
    text = _CONTROL.sub(" ", text or "")
    lowered = text.lower()
    found = [(lowered.find(t), t) for t in terms if lowered.find(t) >= 0]
    if not found:
        cut = text[: SNIPPET_RADIUS * 2]
        return Snippet(cut + ("…" if len(text) > len(cut) else ""), "", "")
    start, term = min(found)
    end = start + len(term)
    lo, hi = max(0, start - SNIPPET_RADIUS), min(len(text), end + SNIPPET_RADIUS)
    return Snippet(("…" if lo else "") + text[lo:start], text[start:end],
                   text[end:hi] + ("…" if hi < len(text) else ""))
