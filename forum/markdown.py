"""Markdown to safe HTML: markdown-it with raw HTML off, then nh3 as a second line of defence.

The parser is bounded: markdown-it looks for the ``]`` of every ``[`` by scanning the rest of the text, so text
full of brackets that never close (``"![" * 25000``, 50 KB) took seconds. Here a link or image text spans at
most ``LINK_LABEL_MAX`` characters, and one document may scan at most ``LINK_SCAN_BUDGET`` characters for them
in all (then further brackets are plain text): the work grows linearly with the text.
"""
from __future__ import annotations

from types import SimpleNamespace

import nh3
from markdown_it import MarkdownIt, helpers

LINK_LABEL_MAX = 1_000
LINK_SCAN_BUDGET = 200_000


def _bounded_link_label(state, start: int, disable_nested: bool = False) -> int:
    """markdown-it's ``parseLinkLabel`` (the end of the ``[...]`` at ``start``, or -1) within the bounds above."""
    limit = min(state.posMax, start + 1 + LINK_LABEL_MAX)
    if state.src.find("]", start + 1, limit) < 0:
        return -1  # no closing bracket within reach: one search in C instead of a scan token by token
    budget = state.env.setdefault("_link_scan_budget", [LINK_SCAN_BUDGET])
    old_pos, level, found = state.pos, 1, False
    state.pos = start + 1
    while state.pos < limit and budget[0] > 0:
        budget[0] -= 1
        marker = state.src[state.pos]
        if marker == "]":
            level -= 1
            if level == 0:
                found = True
                break
        before = state.pos
        state.md.inline.skipToken(state)
        if marker == "[":
            if before == state.pos - 1:
                level += 1  # a plain "[" (not part of another token) opens a nested level
            elif disable_nested:
                state.pos = old_pos
                return -1
    end = state.pos if found else -1
    state.pos = old_pos
    return end


_md = MarkdownIt("js-default", {"linkify": False, "typographer": False}).enable("table").enable("strikethrough")
# This instance's link and image rules find labels with the bounded scan (the library's helpers stay as they are).
_md.helpers = SimpleNamespace(**{**{name: getattr(helpers, name) for name in helpers.__all__},
                                 "parseLinkLabel": _bounded_link_label})

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
    "code": {"class"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Render user Markdown to HTML that is safe to store and show as is."""
    html = _md.render(text or "", {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
