"""A post's edit history read as changes: each edit as a word diff of the text before it and after it."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from ...models import Reply, Revision, Thread, User
from .pages import revisions_of

# Words and the whitespace between them are both tokens, so joining the tokens gives the text back exactly and
# a change of line breaks shows where it happened.
_TOKENS = re.compile(r"\s+|\S+")

Segment = tuple[str, str]  # ("equal" | "insert" | "delete", text)


@dataclass
class Edit:
    """One edit: who, when, and what it changed (the title only when it changed)."""

    editor: User
    created_at: datetime
    body: list[Segment]
    title: list[Segment] | None
    previous_md: str
    previous_title: str | None
    # The files it added or removed: [("added" | "removed", filename)].
    files: list[tuple[str, str]]


def word_diff(before: str, after: str) -> list[Segment]:
    """The words ``after`` inserted into ``before`` and deleted from it, in order, runs of one kind merged."""
    old, new = _TOKENS.findall(before or ""), _TOKENS.findall(after or "")
    segments: list[Segment] = []

    def add(kind: str, tokens: list[str]) -> None:
        if not tokens:
            return
        text = "".join(tokens)
        if segments and segments[-1][0] == kind:
            segments[-1] = (kind, segments[-1][1] + text)
        else:
            segments.append((kind, text))

    # autojunk off: in a long post, common words must still anchor the alignment rather than be ignored.
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            add("equal", old[i1:i2])
        else:
            add("delete", old[i1:i2])
            add("insert", new[j1:j2])
    return segments


def edits(*, thread: Thread | None = None, reply: Reply | None = None) -> list[Edit]:
    """A thread's or reply's edits, newest first, each diffed against the version that followed it."""
    revisions: list[Revision] = revisions_of(thread=thread, reply=reply)
    after_md = reply.body_md if reply is not None else thread.body_md
    after_title = None if reply is not None else thread.title
    result = []
    for rev in revisions:  # newest first: the text after an edit is the one before the next newer edit
        title = None
        if rev.previous_title is not None and after_title is not None and rev.previous_title != after_title:
            title = word_diff(rev.previous_title, after_title)
        result.append(Edit(editor=rev.editor, created_at=rev.created_at, body=word_diff(rev.previous_md, after_md),
                           title=title, previous_md=rev.previous_md, previous_title=rev.previous_title,
                           files=[(c["action"], c["filename"]) for c in rev.file_changes or []]))
        after_md = rev.previous_md
        if rev.previous_title is not None:
            after_title = rev.previous_title
    return result
