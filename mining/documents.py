"""Threads -> the text to embed, and error signatures as separate features."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FENCED_CODE = re.compile(r"```.*?(```|$)|~~~.*?(~~~|$)", re.S)
INDENTED_CODE = re.compile(r"(?m)^(?: {4}|\t).*$")
IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
HTML_TAG = re.compile(r"<[^>\n]{1,200}>")
BARE_URL = re.compile(r"https?://\S+")
MARKUP = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+)|(?<!\w)[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?!\w)|`")
SPACES = re.compile(r"\s+")

SIGNATURE_PATTERNS = [
    re.compile(r"\b[A-Z]{2,6}-\d{3,6}\b"),  # ORA-00942, OPS-306, KB-1234
    re.compile(r"\bHTTP[ /]?(?:1\.[01] )?[1-5]\d\d\b", re.I),  # HTTP 503, http/1.1 404
    re.compile(r"\b(?:[a-z_][\w]*\.)+[A-Z]\w*(?:Exception|Error)\b"),  # java.lang.OutOfMemoryError
    re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Exception|Error|Fault|Failure)\b"),  # NullPointerException
    re.compile(r"\bE[A-Z]{3,}\b"),  # ECONNREFUSED, EACCES
    re.compile(r"\b(?:exit|error|return|status) code:? ?-?\d+\b", re.I),
    re.compile(r"\b0x[0-9A-Fa-f]{8}\b"),  # Windows HRESULTs
]
FAILING_STEP = re.compile(r"\b(?:step|stage|phase|task)\s+['\"]?([\w .-]{3,40}?)['\"]?\s+(?:failed|fails|aborted)\b",
                          re.I)
NOT_SIGNATURES = {"Error", "Exception", "Failure", "Fault", "ERROR", "EDIT", "EOF", "ETA", "EMEA", "EUR"}


@dataclass
class Document:
    """A forum thread as the engine sees it."""

    id: Any
    title: str
    body: str = ""
    answer: str = ""
    metadata: dict = field(default_factory=dict)


def strip_markup(text: str) -> str:
    """Remove code blocks, images, HTML and Markdown punctuation, keeping the words."""
    text = FENCED_CODE.sub(" ", text or "")
    text = INDENTED_CODE.sub(" ", text)
    text = IMAGE.sub(r"\1", text)
    text = LINK.sub(r"\1", text)
    text = BARE_URL.sub(" ", text)
    text = HTML_TAG.sub(" ", text)
    text = MARKUP.sub("", text)
    return SPACES.sub(" ", text).strip()


def trim(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars``, at a sentence or word boundary when possible."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    sentence_end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if sentence_end > max_chars // 2:
        return cut[:sentence_end + 1]
    space = cut.rfind(" ")
    return cut[:space] if space > max_chars // 2 else cut


def document_text(doc: Document, body_chars: int = 600, answer_chars: int = 300) -> str:
    """The text to embed: the title, then the cleaned start of the body and of the answer.

    The title leads (the model reads at most ``max_seq_length`` tokens, so what comes first
    weighs most) and is repeated once when a long body follows, so it is not drowned out.
    """
    title = strip_markup(doc.title)
    body = trim(strip_markup(doc.body), body_chars)
    answer = trim(strip_markup(doc.answer), answer_chars)
    parts = [title]
    if len(body) > 3 * len(title):
        parts.append(title)
    parts += [p for p in (body, answer) if p]
    return ". ".join(p.rstrip(".") for p in parts if p)


def error_signatures(text: str) -> list[str]:
    """Error codes, HTTP statuses, exception names and failing steps found in ``text``, in order."""
    text = text or ""
    found: dict[str, int] = {}
    for pattern in SIGNATURE_PATTERNS:
        for match in pattern.finditer(text):
            value = SPACES.sub(" ", match.group(0))
            if value in NOT_SIGNATURES:
                continue
            if value.lower().startswith("http"):
                value = "HTTP " + value[-3:]
            found.setdefault(value, match.start())
    for match in FAILING_STEP.finditer(text):
        found.setdefault(f"step failed: {match.group(1).strip().lower()}", match.start())
    # a qualified name already covers its short form
    names = list(found)
    for name in names:
        if "." in name and name.rsplit(".", 1)[1] in found:
            del found[name.rsplit(".", 1)[1]]
    return sorted(found, key=found.get)


def document_signatures(doc: Document) -> list[str]:
    """Error signatures of a whole thread (title, body including code, answer)."""
    return error_signatures("\n".join([doc.title, doc.body, doc.answer]))
