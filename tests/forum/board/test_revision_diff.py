"""A revision page shows what each edit changed as a word diff (insertions and deletions marked), computed on
the server, with the full earlier text still available."""
from __future__ import annotations

import re

from forum.services.board import history
from forum.services.board import threads as service
from tests.forum.board.test_pages import Browser


def test_word_diff_marks_insertions_and_deletions():
    segments = history.word_diff("Restart the sync service nightly.", "Restart the LDAP sync service weekly.")
    assert "".join(text for kind, text in segments if kind != "delete") == "Restart the LDAP sync service weekly."
    assert "".join(text for kind, text in segments if kind != "insert") == "Restart the sync service nightly."
    assert ("delete", "nightly.") in segments and ("insert", "weekly.") in segments
    assert [text.strip() for kind, text in segments if kind == "insert"] == ["LDAP", "weekly."]
    assert history.word_diff("same words", "same words") == [("equal", "same words")]


def test_the_revision_page_shows_each_edit_as_a_diff(app, make):
    author = make.user()
    thread = make.thread(author, title="Sync stalls", body="Restart the sync service nightly.")
    service.edit_thread(author, thread, title="LDAP sync stalls", body="Restart the LDAP sync service weekly.")
    service.edit_thread(author, thread, title="LDAP sync stalls", body="Restart the LDAP sync service weekly. <b>")
    page = Browser(app, author).html(f"/t/{thread.id}/revisions")
    first, second = page.split('class="card revision"')[2], page.split('class="card revision"')[1]
    # Newest edit first: it added "<b>" (escaped, as text); the first edit changed a word and added one.
    assert re.search(r"<ins>\s*&lt;b&gt;\s*</ins>", second) and "<del>" not in second.split("</ol>")[0]
    assert re.search(r"<del>\s*nightly\.\s*</del>", first) and re.search(r"<ins>\s*weekly\.\s*</ins>", first)
    assert re.search(r"<ins>\s*LDAP\s*</ins>", first)
    # The title's change is shown the same way; the whole earlier text is still there to read.
    assert "Title" in first and "<del>Sync</del><ins>LDAP sync</ins> stalls" in first
    assert "Restart the sync service nightly." in first
