"""The steps of a playbook draft, taken from an accepted answer without what was said to one asker: the
greeting ("Hi Ann, ") and the sign-offs ("Let us know if that works.", "Cheers, Sam")."""
from __future__ import annotations

import re

_GREETING = re.compile(r"^(?:hi|hello|hey|dear)\s+[^,\n]{1,40},\s*", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^(?:let (?:us|me) know\b.*\b(?:works?|worked|helps?|goes|how)\b"
    r"|hope (?:that|this|it) helps|shout if\b|post back\b|good luck\b|cheers\b|happy to help\b|feel free to\b"
    r"|any (?:questions|problems)\b|(?:best|kind|warm)?\s*regards\b|best\b[,.!]*$"
    r"|thanks?(?: you)?(?: again)?[,.!]*$|thanks?,)",
    re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_NAME_LINE = 40  # a line after "Cheers," short enough to be a signature


def _blocks(text: str) -> list[tuple[str, bool]]:
    """Paragraphs (split at blank lines) and fenced code blocks, each whole: (text, is_code)."""
    blocks: list[tuple[str, bool]] = []
    lines: list[str] = []
    fence: str | None = None

    def flush(is_code: bool = False) -> None:
        if lines and "".join(lines).strip():
            blocks.append(("\n".join(lines), is_code))
        lines.clear()

    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence is None and opened:
            flush()
            fence = opened.group(1)
            lines.append(line)
        elif fence is not None:
            lines.append(line)
            if line.strip().startswith(fence) and len(lines) > 1:
                flush(is_code=True)
                fence = None
        elif not line.strip():
            flush()
        else:
            lines.append(line)
    flush(is_code=fence is not None)
    return blocks


def _is_sign_off(paragraph: str) -> bool:
    first, *rest = paragraph.strip().split("\n")
    return (len(paragraph) <= 160 and bool(_SIGN_OFF.match(first.strip()))
            and len(rest) <= 2 and all(len(line.strip()) <= _NAME_LINE for line in rest))


def steps_from_answer(text: str) -> str:
    """An answer's Markdown with its opening greeting and closing pleasantries taken off (code untouched)."""
    blocks = _blocks((text or "").replace("\r\n", "\n").strip())
    while blocks and not blocks[-1][1] and _is_sign_off(blocks[-1][0]):
        blocks.pop()
    if blocks and not blocks[-1][1]:
        # "Raise it to 200. Let me know if that works!" — a sign-off as the last sentence of the last paragraph.
        sentences = _SENTENCE_END.split(blocks[-1][0].strip())
        while len(sentences) > 1 and _is_sign_off(sentences[-1]):
            sentences.pop()
        blocks[-1] = (" ".join(sentences), False)
    if blocks and not blocks[0][1]:
        rest = _GREETING.sub("", blocks[0][0], count=1)
        if rest != blocks[0][0] and rest:
            blocks[0] = (rest[0].upper() + rest[1:], False)
    return "\n\n".join(block for block, _code in blocks)
