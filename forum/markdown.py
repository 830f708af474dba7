"""Markdown to safe HTML: markdown-it with raw HTML off, then nh3 as a second line of defence.

The parser is bounded: markdown-it looks for the ``]`` of every ``[`` by scanning the rest of the text, so text
full of brackets that never close (``"![" * 25000``, 50 KB) took seconds. Here a link or image text spans at
most ``LINK_LABEL_MAX`` characters, and one document may scan at most ``LINK_SCAN_BUDGET`` characters for them
in all (then further brackets are plain text): the work grows linearly with the text. (100,000 steps: a 50 KB
post made of links with nested brackets used 7,690; text built to exhaust it costs ~60 ms per 100,000.)

Emphasis is bounded too: each ``*`` or ``_`` that may open or close emphasis costs a token and a delimiter
(~5 µs in all), so one document pairs at most ``EMPHASIS_DELIMITER_BUDGET`` of them; the rest are plain text.
Two of markdown-it's inline steps are replaced by faster ones that give the same tokens, since their cost per
character set the worst cases left (50 KB of ``"a_"`` or ``"[a]("``): a run of ``*`` or ``_`` that can neither
open nor close emphasis stays plain text instead of one token and one delimiter per character, and a link
destination is scanned by a regular expression up to the next character that matters instead of character by
character.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import nh3
from markdown_it import MarkdownIt, helpers
from markdown_it.common.utils import unescapeAll
from markdown_it.rules_inline.state_inline import Delimiter
from markupsafe import Markup, escape

LINK_LABEL_MAX = 1_000
LINK_SCAN_BUDGET = 100_000
EMPHASIS_DELIMITER_BUDGET = 5_000


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


def _emphasis(state, silent: bool) -> bool:
    """markdown-it's emphasis tokenizer, within the document's delimiter budget.

    A run that can neither open nor close stays pending text: such a delimiter is never paired, so the tokens
    (once adjacent text is joined) are the same as the library's, which made one token and one delimiter for
    each of its characters (``"a_" * 25000``: 25,000 of each). A run past the budget is plain text too.
    """
    marker = state.src[state.pos]
    if silent or marker not in ("_", "*"):
        return False
    scanned = state.scanDelims(state.pos, marker == "*")
    budget = state.env.setdefault("_emphasis_budget", [EMPHASIS_DELIMITER_BUDGET])
    if not (scanned.can_open or scanned.can_close) or budget[0] < scanned.length:
        state.append_pending(marker * scanned.length)
        state.pos += scanned.length
        return True
    budget[0] -= scanned.length
    for _ in range(scanned.length):
        token = state.push("text", "", 0)
        token.content = marker
        state.delimiters.append(Delimiter(marker=ord(marker), length=scanned.length, token=len(state.tokens) - 1,
                                          end=-1, open=scanned.can_open, close=scanned.can_close))
    state.pos += scanned.length
    return True


class _Destination:
    __slots__ = ("ok", "pos", "str")

    def __init__(self) -> None:
        self.ok, self.pos, self.str = False, 0, ""


# What ends or nests a bare link destination: spaces and controls, a backslash escape, parentheses.
_DESTINATION_STOP = re.compile(r"[\x00-\x20\x7f\\()]")


def _link_destination(string: str, pos: int, maximum: int) -> _Destination:
    """markdown-it's ``parseLinkDestination``, jumping between the characters that matter.

    The library reads a bare destination one character at a time; text of unclosed links (``"[a](" * 12500``)
    made it read up to 32 nesting levels of the following links for each one.
    """
    if string.startswith("<", pos, maximum):
        return helpers.parseLinkDestination(string, pos, maximum)  # <...>: ends at the first > or newline
    start, level, result = pos, 0, _Destination()
    while pos < maximum:
        found = _DESTINATION_STOP.search(string, pos, maximum)
        if found is None:
            pos = maximum
            break
        pos = found.start()
        char = string[pos]
        if char == "\\":
            if pos + 1 < maximum:
                if string[pos + 1] == " ":
                    break
                pos += 2
                continue
        elif char == "(":
            level += 1
            if level > 32:
                return result
        elif char == ")":
            if level == 0:
                break
            level -= 1
        else:  # a space or a control character
            break
        pos += 1
    if start == pos or level != 0:
        return result
    result.ok, result.pos, result.str = True, pos, unescapeAll(string[start:pos])
    return result


# An @mention: the name of a member (their username) or of an organisation (its slug). Not after a word
# character, "@", ".", "/", "+" or "-", so e-mail addresses and paths are not mentions; a name does not end in
# ".", "-" or "_" (the end of a sentence). Notifications read mentions with the same expression.
MENTION_RE = re.compile(r"(?<![\w@./+-])@([A-Za-z0-9][A-Za-z0-9_.-]{0,119})")
# Where a mention links: the member's profile, which sends an organisation's slug on to its page. A fixed path,
# since posts are rendered outside requests too (imports, the demo seed).
PROFILE_PATH = "/u/"


def mention_name(match: re.Match) -> str:
    """The name a ``MENTION_RE`` match refers to, without trailing punctuation."""
    return match.group(1).rstrip(".-_")


def _mention(state, silent: bool) -> bool:
    """Inline rule: ``@name`` becomes a link to the profile (not inside a link's text, nor in code)."""
    if state.src[state.pos] != "@" or state.linkLevel > 0:
        return False
    match = MENTION_RE.match(state.src, state.pos)  # the look-behind still sees the character before "@"
    if match is None:
        return False
    name = mention_name(match)
    if not name:
        return False
    if not silent:
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": PROFILE_PATH + name, "class": "mention"}
        state.push("text", "", 0).content = "@" + name
        state.push("link_close", "a", -1)
    state.pos += 1 + len(name)
    return True


def link_mentions(text: str) -> Markup:
    """Plain text (an excerpt) as HTML with its @mentions linked to profiles, everything else escaped."""
    parts, last = [], 0
    for match in MENTION_RE.finditer(text or ""):
        name = mention_name(match)
        if not name:
            continue
        parts += [escape(text[last:match.start()]),
                  Markup('<a href="{}" class="mention">@{}</a>').format(PROFILE_PATH + name, name)]
        last = match.start() + 1 + len(name)
    parts.append(escape((text or "")[last:]))
    return Markup("").join(parts)


_md = MarkdownIt("js-default", {"linkify": False, "typographer": False}).enable("table").enable("strikethrough")
# This instance's link and image rules find labels with the bounded scan (the library's helpers stay as they are).
_md.helpers = SimpleNamespace(**{**{name: getattr(helpers, name) for name in helpers.__all__},
                                 "parseLinkLabel": _bounded_link_label, "parseLinkDestination": _link_destination})
_md.inline.ruler.at("emphasis", _emphasis)
_md.inline.ruler.push("mention", _mention)

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
        allowed_classes={"a": {"mention"}},
        strip_comments=True,
    )
