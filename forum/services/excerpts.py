"""Posts shown out of their page (search hits, the inbox, a pattern's fix, related threads) as plain text.

They are read from the rendered HTML, not the Markdown source: a reader sees "page_size = 500", never the
backticks, fences, asterisks and link targets around it.
"""
from __future__ import annotations

import html

import nh3


def plain_text(body_html: str | None) -> str:
    """The text a reader sees in rendered HTML (no Markdown syntax, no tags)."""
    # A space before every tag keeps table cells, list items and code lines apart once the tags are gone.
    return html.unescape(nh3.clean((body_html or "").replace("<", " <"), tags=set()))


def excerpt(body_html: str | None, length: int) -> str:
    """The start of a post as one line of plain text, cut at a word to at most ``length`` characters."""
    text = " ".join(plain_text(body_html).split())
    if len(text) <= length:
        return text
    cut = text[:length - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
