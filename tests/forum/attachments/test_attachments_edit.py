"""Files added to and removed from a post after posting, on its edit form: by whoever may edit it, within the
limits counted over the files kept and added, recorded in the revision history; a removed file is hidden from
everyone, and a removed log's error signatures stop counting for the thread."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Attachment, Revision
from forum.services.vectors.embeddings import thread_documents
from tests.factories import csrf_token_from
from tests.forum.attachments.test_attachments import LOG, png


@pytest.fixture()
def world(world, make):
    """The shared world, with a reply by Cid on the private thread."""
    world.thread = world.private
    world.reply = make.reply(world.thread, world.cid, "Same here.")
    return world


def _edit(client, url: str, body: str, files=(), remove=(), **fields):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = {"body": body, "csrf_token": csrf_token_from(page.get_data(as_text=True)), **fields,
            "files": [(io.BytesIO(content), name) for name, content in files],
            "remove_files": [str(i) for i in remove]}
    return client.post(url, data=data, content_type="multipart/form-data")


def _live(**where) -> list[Attachment]:
    query = select(Attachment).where(Attachment.deleted_at.is_(None)).filter_by(**where).order_by(Attachment.id)
    return list(db.session.execute(query).scalars())


def test_the_edit_form_lists_the_files_and_takes_new_ones(client, login, world):
    login(world.cid)
    html = client.get(f"/r/{world.reply.id}/edit").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and 'name="files"' in html

    response = _edit(client, f"/r/{world.reply.id}/edit", "Same here, log attached.",
                     files=[("after.log", LOG), ("screen.png", png())])
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:1500]
    log, image = _live(reply_id=world.reply.id)
    assert (log.filename, image.filename, log.uploader_id) == ("after.log", "screen.png", world.cid.id)
    page = client.get(f"/t/{world.thread.id}").get_data(as_text=True)
    assert "after.log" in page and f'src="/thumbs/{image.id}.png"' in page and "log attached" in page

    # One edit, one revision: the text before it and the files it added.
    [revision] = db.session.execute(select(Revision).where(Revision.reply_id == world.reply.id)).scalars()
    assert revision.previous_md == "Same here."
    assert revision.file_changes == [{"action": "added", "filename": "after.log"},
                                     {"action": "added", "filename": "screen.png"}]
    history = client.get(f"/r/{world.reply.id}/revisions").get_data(as_text=True)
    assert "after.log" in history and "screen.png" in history

    # The form now offers to remove each of them.
    html = client.get(f"/r/{world.reply.id}/edit").get_data(as_text=True)
    assert f'name="remove_files" value="{log.id}"' in html and f'name="remove_files" value="{image.id}"' in html


def test_a_file_removed_on_the_edit_form_is_hidden_from_everyone(app, client, login, make, world):
    login(world.cid)
    _edit(client, f"/r/{world.reply.id}/edit", "Same here.", files=[("after.log", LOG)])
    [row] = _live(reply_id=world.reply.id)
    response = _edit(client, f"/r/{world.reply.id}/edit", "Same here.", remove=[row.id])
    assert response.status_code in (302, 303)
    assert _live(reply_id=world.reply.id) == []
    moderator = app.test_client()
    login(world.moderator, moderator)
    for c in (client, moderator):
        assert c.get(f"/files/{row.id}/after.log").status_code == 404
        assert "after.log" not in c.get(f"/t/{world.thread.id}").get_data(as_text=True)
    revisions = db.session.execute(select(Revision).where(Revision.reply_id == world.reply.id)
                                   .order_by(Revision.id)).scalars().all()
    assert revisions[-1].file_changes == [{"action": "removed", "filename": "after.log"}]


def test_a_log_added_to_the_question_counts_for_the_thread_until_it_is_removed(client, login, world):
    login(world.ann)
    url = f"/t/{world.thread.id}/edit"
    response = _edit(client, url, "The nightly import fails.", files=[("nightly.log", LOG)],
                     title=world.thread.title, tags="")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:1500]
    assert f'href="/t/{world.thread.id}"' in client.get("/search?q=ORA-00942").get_data(as_text=True)
    [doc] = thread_documents([world.thread.id])
    assert "ORA-00942: table or view does not exist" in doc.body

    [row] = _live(thread_id=world.thread.id, reply_id=None)
    response = _edit(client, url, "The nightly import fails.", remove=[row.id], title=world.thread.title, tags="")
    assert response.status_code in (302, 303)
    assert f'href="/t/{world.thread.id}"' not in client.get("/search?q=ORA-00942").get_data(as_text=True)
    [doc] = thread_documents([world.thread.id])
    assert "ORA-00942" not in doc.body


def test_limits_count_the_files_kept_and_added(app, client, login, world):
    app.config["ATTACHMENT_MAX_FILES"] = 2
    login(world.cid)
    url = f"/r/{world.reply.id}/edit"
    _edit(client, url, "Same here.", files=[("a.log", b"a\n"), ("b.log", b"b\n")])
    first, second = _live(reply_id=world.reply.id)
    response = _edit(client, url, "Text that must not be saved.", files=[("c.log", b"c\n")])
    assert response.status_code == 400
    assert "at most 2 files" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [r.filename for r in _live(reply_id=world.reply.id)] == ["a.log", "b.log"]
    assert db.session.get(type(world.reply), world.reply.id).body_md == "Same here."
    # Removing one makes room for one.
    response = _edit(client, url, "Same here.", files=[("c.log", b"c\n")], remove=[first.id])
    assert response.status_code in (302, 303)
    assert [r.filename for r in _live(reply_id=world.reply.id)] == ["b.log", "c.log"]
    # A refused file refuses the whole edit.
    response = _edit(client, url, "Also not saved.", files=[("page.html", b"<script>alert(1)</script>")],
                     remove=[second.id])
    assert response.status_code == 400 and "cannot be attached" in response.get_data(as_text=True)
    assert [r.filename for r in _live(reply_id=world.reply.id)] == ["b.log", "c.log"]


def test_moderators_may_change_files_others_may_not(app, client, login, make, world):
    login(world.cid)
    _edit(client, f"/r/{world.reply.id}/edit", "Same here.", files=[("mine.log", LOG)])
    [row] = _live(reply_id=world.reply.id)
    other_reply = make.reply(world.public, world.bea, "Beta's reply.")
    # Someone else's file, named on the edit form of one's own reply: refused, nothing changes.
    outsider = app.test_client()
    login(world.bea, outsider)
    response = _edit(outsider, f"/r/{other_reply.id}/edit", "Beta's reply.", remove=[row.id])
    assert response.status_code == 400
    assert [r.id for r in _live(reply_id=world.reply.id)] == [row.id]
    # The asker's colleague may read the reply but not edit it.
    colleague = app.test_client()
    login(world.ann, colleague)
    assert colleague.get(f"/r/{world.reply.id}/edit").status_code == 403

    moderator = app.test_client()
    login(world.moderator, moderator)
    response = _edit(moderator, f"/r/{world.reply.id}/edit", "Same here.", files=[("clean.log", b"clean\n")],
                     remove=[row.id])
    assert response.status_code in (302, 303)
    assert [r.filename for r in _live(reply_id=world.reply.id)] == ["clean.log"]
