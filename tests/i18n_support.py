"""What a German page must not show: the English of the interface, read from the catalog itself.

Every message of ``forum/translations/de`` whose German differs from its English (and that holds no
placeholder, so it can be compared whole) is an English interface string; a German page shows none of them as a
whole text, title, placeholder or label. Names, titles and bodies that members wrote are allowed through.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "forum" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm")
# "3 days ago", "a minute ago", "1 reply": English made from numbers, which no whole-string comparison catches
ENGLISH_PATTERNS = re.compile(r"\b\d+ (?:minutes?|hours?|days?|months?|years?) ago\b|\bjust now\b|\b\d+ repl(?:y|ies)\b")


def german_catalog():
    """The German catalog as Babel reads it."""
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="de")


def english_ui_strings() -> set[str]:
    """The English of every message translated differently into German, without placeholders (and not also
    the German of another message)."""
    catalog = german_catalog()
    english, german_words = set(), set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        for text, german in zip(ids, strings, strict=True):
            text = " ".join(text.split())
            if "%(" in text or text == " ".join((german or "").split()) or not re.search(r"[A-Za-z]{3}", text):
                continue
            english.add(text.replace("%%", "%"))
            german_words.add(" ".join((german or "").split()).replace("%%", "%"))
    # "Filter" is English for one message and German for another ("Filters"): a German page may show it
    return english - german_words


class _Texts(HTMLParser):
    """The visible texts of a page and its labelling attributes, without scripts, styles and members' posts."""

    SKIP = ("script", "style", "template")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0
        self._post_depth: list[int] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._depth += 1
        if tag in self.SKIP:
            self._skip += 1
        if "post-body" in (attributes.get("class") or "").split():
            self._post_depth.append(self._depth)
        if not self._post_depth:
            self.texts.extend(" ".join(v.split()) for k, v in attrs if k in ATTRIBUTES and v)
            if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.texts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        if self._post_depth and self._post_depth[-1] == self._depth:
            self._post_depth.pop()
        self._depth -= 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._depth -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip and not self._post_depth:
            self.texts.append(text)


def page_texts(html: str) -> list[str]:
    """The texts a reader sees on ``html`` outside members' posts (void elements are closed as they open)."""
    parser = _Texts()
    parser.feed(re.sub(r"<(meta|link|input|br|hr|img|source)\b([^>]*?)/?>", r"<\1\2/>", html))
    return parser.texts


def english_left(texts: list[str], english: set[str], members_wrote: set[str] = frozenset()) -> list[str]:
    """The texts that are English interface strings, or English made from numbers, minus what members wrote."""
    left = []
    for text in texts:
        if text in members_wrote:
            continue
        if text in english or ENGLISH_PATTERNS.search(text):
            left.append(text)
    return left


_JINJA_BLOCKS = re.compile(r"\{#.*?#\}|\{%-?\s*trans\b.*?endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
_RAW = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_LABELLING = re.compile(r"\b(?:%s)=\"([^\"]*)\"" % "|".join(ATTRIBUTES))


def bare_english(template: str) -> list[str]:
    """Text of a template that no gettext call or trans block covers: words between tags, and labelling
    attributes (titles, placeholders…) written out instead of through ``_()``."""
    found = []
    for value in _LABELLING.findall(template):
        if re.search(r"[A-Za-z][a-z]", _JINJA_BLOCKS.sub(" ", value)):
            found.append(value)
    text = _RAW.sub(" ", _JINJA_BLOCKS.sub(" ", template))
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    found += [" ".join(t.split()) for t in re.split(r"\s{2,}|\n", text) if re.search(r"[A-Za-z][a-z]", t)]
    return found


# --- English handed to the reader from Python, outside gettext ------------------------------------------------

_GETTEXT_CALLS = {"_", "gettext", "ngettext", "_l", "lazy_gettext", "N_", "pgettext"}
# Calls whose string arguments no reader sees as interface text: logs, CLI output, rate limits, routes, JSON
# errors of malformed requests from the page's own scripts, SQL.
_NOT_FOR_READERS = {"echo", "limit", "route", "get", "post", "debug", "info", "warning", "error", "exception",
                    "critical", "jsonify", "execute", "text", "getenv", "setdefault", "Blueprint"}
_WORDS = re.compile(r"[A-Za-z][a-z]+[ ,:;]+[a-z]+")
# Lower-case tokens standing alone: CSS classes, header values, stored values offered as suggestions.
_TOKENS = re.compile(r"^[a-z0-9 ,;:=/.'()-]+$")


def english_literals(path: Path, root: Path) -> list[str]:
    """String literals of a Python module that read as English words and reach no gettext call (docstrings and
    the calls above aside): ``path:line: text`` for each."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or not _WORDS.search(node.value):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Expr) or "<" in node.value or '="' in node.value:
            continue  # a docstring, or a piece of markup
        if not isinstance(parent, ast.JoinedStr) and _TOKENS.match(node.value):
            continue
        while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                                             ast.Module)):
            if isinstance(parent, ast.Call):
                func = parent.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in _GETTEXT_CALLS or name in _NOT_FOR_READERS:
                    break
            parent = parents.get(parent)
        else:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value[:80]!r}")
    return found


_JINJA_CODE = re.compile(r"\{\{.*?\}\}|\{%-?\s*(?!trans\b|pluralize\b|endtrans\b).*?%\}", re.S)
_LITERAL = re.compile(r"""(['"])((?:\\.|(?!\1).)*)\1""")
_GETTEXT_BEFORE = re.compile(r"""\b(?:_|gettext|ngettext)\(\s*(?:(['"])(?:\\.|(?!\1).)*\1\s*,\s*)?$""")


def english_in_expressions(template: str) -> list[str]:
    """String literals inside ``{{ }}`` / ``{% %}`` that read as English words and are no gettext call's
    message: text handed to a macro (a hint, a label) or shown as a fallback (``subject or '(no subject)'``)."""
    found = []
    for block in _JINJA_CODE.finditer(template):
        code = block.group(0)
        if template[:block.start()].endswith('class="'):
            continue  # CSS classes
        for literal in _LITERAL.finditer(code):
            text = literal.group(2)
            if (re.search(r"[A-Za-z][a-z]+ [a-z]+", text) and "<" not in text
                    and not _GETTEXT_BEFORE.search(code[:literal.start()])):
                found.append(text)
    return found
