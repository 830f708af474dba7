"""Files through the JSON API: uploaded with a new thread or reply (multipart) or onto a post the caller may edit,
listed in the thread's JSON, downloaded under the post's own visibility with the web's headers, and refused with
a JSON error that says why (too big, too many, a type not allowed, not the caller's post)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Attachment, Revision
from tests.forum.attachments.test_attachments import LOG, png

FILE_CSP = "default-src 'none'; sandbox"


def _token(user, scope: str = "write") -> dict:
    from forum.services.orgs.tokens import create_token

    return {"Authorization": f"Bearer {create_token(user, 'files', scope)[1]}"}


def _files(*named: tuple[str, bytes]) -> list:
    return [(io.BytesIO(content), name) for name, content in named]


def _count() -> int:
    return db.session.execute(select(func.count(Attachment.id)).where(Attachment.deleted_at.is_(None))).scalar_one()


def _new_thread(client, headers, space_id: int, files: list, **fields):
    data = {"title": "Nightly import stops", "body": "The import stops halfway, log attached.",
            "space_id": str(space_id), "visibility": "org_private", "tags": "import, ledger", **fields,
            "files": files}
    return client.post("/api/v1/threads", headers=headers, data=data, content_type="multipart/form-data")


def test_a_thread_posted_with_a_log_lists_it_and_serves_it_only_to_readers(client, world):
    response = _new_thread(client, _token(world.ann), world.space.id, _files(("nightly.log", LOG)))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["tags"] == ["import", "ledger"] and body["visibility"] == "org_private"
    [listed] = body["attachments"]
    assert (listed["filename"], listed["kind"], listed["size"]) == ("nightly.log", "text", len(LOG))
    assert listed["signatures"][:2] == ["ORA-00942", "java.lang.OutOfMemoryError"]
    assert listed["download_url"] == f"/api/v1/attachments/{listed['id']}"

    shown = client.get(f"/api/v1/threads/{body['id']}", headers=_token(world.cid, "read")).json
    assert [f["id"] for f in shown["attachments"]] == [listed["id"]]
    got = client.get(listed["download_url"], headers=_token(world.cid, "read"))
    assert got.status_code == 200 and got.data == LOG
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["Content-Type"].startswith("text/plain")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"] == FILE_CSP
    # The log's signatures find the thread through the API's search as through the page's.
    found = client.get("/api/v1/search?q=ORA-00942", headers=_token(world.cid, "read")).json
    assert [t["id"] for t in found["items"]] == [body["id"]]

    # Another organisation's member sees neither the thread nor its file: both look missing.
    outsider = _token(world.bea, "read")
    assert client.get(listed["download_url"], headers=outsider).status_code == 404
    assert client.get(f"/api/v1/threads/{body['id']}", headers=outsider).status_code == 404
    assert client.get("/api/v1/search?q=ORA-00942", headers=outsider).json["items"] == []
    assert client.get(listed["download_url"]).status_code == 401


def test_a_reply_posted_with_files_lists_them_and_images_come_inline(client, world):
    response = client.post(f"/api/v1/threads/{world.private.id}/replies", headers=_token(world.cid),
                           data={"body": "Same here, screenshot and log.", "files": _files(
                               ("screen.png", png(trailer=b"<html><script>alert(1)</script></html>")),
                               ("mine.log", LOG))}, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    image, log = response.json["attachments"]
    assert (image["kind"], image["content_type"], image["width"], image["height"]) == ("image", "image/png", 40, 30)
    assert log["kind"] == "text"
    thread = client.get(f"/api/v1/threads/{world.private.id}", headers=_token(world.ann, "read")).json
    assert thread["attachments"] == []
    assert [f["id"] for f in thread["replies"][-1]["attachments"]] == [image["id"], log["id"]]
    got = client.get(image["download_url"], headers=_token(world.ann, "read"))
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/png"
    assert "attachment" not in got.headers.get("Content-Disposition", "") and b"<script>" not in got.data
    assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["Content-Security-Policy"] == FILE_CSP
    as_text = client.get(log["download_url"] + "?view=text", headers=_token(world.ann, "read"))
    assert "attachment" not in as_text.headers.get("Content-Disposition", "")
    assert as_text.headers["Content-Type"].startswith("text/plain")


def test_json_bodies_still_work_without_files(client, world):
    response = client.post("/api/v1/threads", headers=_token(world.ann),
                           json={"space_id": world.space.id, "title": "Plain JSON", "body": "No files."})
    assert response.status_code == 201 and response.json["attachments"] == []
    reply = client.post(f"/api/v1/threads/{response.json['id']}/replies", headers=_token(world.cid),
                        json={"body": "Nor here."})
    assert reply.status_code == 201 and reply.json["attachments"] == []


def test_files_go_onto_an_existing_post_its_editors_may_change(client, make, world):
    reply = make.reply(world.public, world.cid, "My answer.")
    added = client.post(f"/api/v1/replies/{reply.id}/attachments", headers=_token(world.cid),
                        data={"files": _files(("after.log", LOG))}, content_type="multipart/form-data")
    assert added.status_code == 201, added.json
    assert [f["filename"] for f in added.json["items"]] == ["after.log"]
    # Recorded in the reply's revision history like an edit of its text.
    revision = db.session.execute(select(Revision).where(Revision.reply_id == reply.id)).scalar_one()
    assert revision.file_changes == [{"action": "added", "filename": "after.log"}]
    assert revision.previous_md == "My answer."

    on_question = client.post(f"/api/v1/threads/{world.public.id}/attachments", headers=_token(world.ann),
                              data={"files": _files(("q.log", LOG))}, content_type="multipart/form-data")
    assert on_question.status_code == 201
    # A moderator may edit any post, so may add to it too.
    by_moderator = client.post(f"/api/v1/threads/{world.public.id}/attachments", headers=_token(world.moderator),
                               data={"files": _files(("mod.log", b"moderator note\n"))},
                               content_type="multipart/form-data")
    assert by_moderator.status_code == 201

    before = _count()
    # Someone who reads the post but did not write it: a 403 that says so.
    for url in (f"/api/v1/replies/{reply.id}/attachments", f"/api/v1/threads/{world.public.id}/attachments"):
        refused = client.post(url, headers=_token(world.bea), data={"files": _files(("x.log", LOG))},
                              content_type="multipart/form-data")
        assert refused.status_code == 403 and "your" in refused.json["error"]["message"], url
    # A read token may not write; a post the caller cannot see is missing.
    assert client.post(f"/api/v1/threads/{world.public.id}/attachments", headers=_token(world.ann, "read"),
                       data={"files": _files(("x.log", LOG))}, content_type="multipart/form-data").status_code == 403
    assert client.post(f"/api/v1/threads/{world.private.id}/attachments", headers=_token(world.bea),
                       data={"files": _files(("x.log", LOG))}, content_type="multipart/form-data").status_code == 404
    nothing = client.post(f"/api/v1/threads/{world.public.id}/attachments", headers=_token(world.ann),
                          data={}, content_type="multipart/form-data")
    assert nothing.status_code == 400 and nothing.json["error"]["field"] == "files"
    assert _count() == before


@pytest.mark.parametrize(("name", "content", "status", "reason", "says"), [
    ("page.html", b"<html><script>alert(1)</script></html>", 415, "type_not_allowed", "cannot be attached"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', 415, "type_not_allowed", "cannot be attached"),
    ("shot.png", LOG, 415, "type_not_allowed", "not a readable image"),
    ("notes.txt", png(), 415, "type_not_allowed", "not a text file"),
    ("big.log", b"x" * 1001, 413, "too_large", "at most 1000 bytes"),
    ("empty.log", b"", 400, "empty", "is empty"),
])
def test_a_refused_file_is_a_json_error_and_refuses_the_whole_post(app, client, world, name, content, status,
                                                                   reason, says):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    headers = _token(world.ann)
    response = _new_thread(client, headers, world.space.id, _files(("fine.log", LOG[:900]), (name, content)),
                           title=f"Carrying {name}")
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert (error["code"], error["field"], error["reason"]) == (status, "files", reason)
    assert says in error["message"]
    reply = client.post(f"/api/v1/threads/{world.public.id}/replies", headers=headers,
                        data={"body": f"reply with {name}", "files": _files((name, content))},
                        content_type="multipart/form-data")
    assert reply.status_code == status and reply.json["error"]["reason"] == reason
    added = client.post(f"/api/v1/threads/{world.public.id}/attachments", headers=headers,
                        data={"files": _files((name, content))}, content_type="multipart/form-data")
    assert added.status_code == status and added.json["error"]["reason"] == reason
    assert _count() == 0
    titles = [t["title"] for t in client.get("/api/v1/threads", headers=headers).json["items"]]
    assert f"Carrying {name}" not in titles


def test_too_many_files_counts_those_already_on_the_post(app, client, make, world):
    app.config["ATTACHMENT_MAX_FILES"] = 2
    headers = _token(world.ann)
    response = _new_thread(client, headers, world.space.id, _files(*[(f"f{i}.log", b"line\n") for i in range(3)]))
    assert response.status_code == 400 and response.json["error"]["reason"] == "too_many"
    first = client.post(f"/api/v1/threads/{world.public.id}/attachments", headers=headers,
                        data={"files": _files(("one.log", b"one\n"))}, content_type="multipart/form-data")
    assert first.status_code == 201
    more = client.post(f"/api/v1/threads/{world.public.id}/attachments", headers=headers,
                       data={"files": _files(("two.log", b"two\n"), ("three.log", b"three\n"))},
                       content_type="multipart/form-data")
    assert more.status_code == 400 and more.json["error"]["reason"] == "too_many"
    assert "at most 2 files" in more.json["error"]["message"]
    assert _count() == 1


def test_a_request_beyond_what_files_may_carry_is_a_json_413(app, client, world):
    app.config.update(ATTACHMENT_MAX_FILES=1, ATTACHMENT_MAX_BYTES=1000, MAX_CONTENT_LENGTH=10_000)
    response = _new_thread(client, _token(world.ann), world.space.id, _files(("huge.log", b"y" * 50_000)))
    assert response.status_code == 413 and response.json["error"]["code"] == 413
    assert _count() == 0


def test_removing_a_file_through_the_api_hides_it_and_its_signatures(client, make, world):
    headers = _token(world.ann)
    thread = _new_thread(client, headers, world.space.id, _files(("nightly.log", LOG))).json
    [listed] = thread["attachments"]
    assert client.delete(listed["download_url"], headers=_token(world.cid)).status_code == 403
    assert client.delete(listed["download_url"], headers=_token(world.bea)).status_code == 404
    assert client.delete(listed["download_url"], headers=_token(world.ann, "read")).status_code == 403
    assert client.delete(listed["download_url"], headers=headers).status_code == 204
    assert client.get(listed["download_url"], headers=headers).status_code == 404
    assert client.get(f"/api/v1/threads/{thread['id']}", headers=headers).json["attachments"] == []
    assert client.get("/api/v1/search?q=ORA-00942", headers=headers).json["items"] == []
    revision = db.session.execute(select(Revision).where(Revision.thread_id == thread["id"])).scalar_one()
    assert revision.file_changes == [{"action": "removed", "filename": "nightly.log"}]


def test_a_multipart_part_without_a_name_is_ignored_not_a_server_error(client, login, world):
    """Browsers never send one; schema fuzzing did, and Flask-WTF's CSRF check then failed with a 500."""
    body = b"--XX\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--XX--\r\n"
    kind = "multipart/form-data; boundary=XX"
    assert client.post("/api/v1/threads", data=body, content_type=kind).status_code == 400  # no CSRF token
    assert client.post("/api/v1/threads", data=body, content_type=kind, headers=_token(world.ann)).status_code == 400
    login(world.ann)
    assert client.post("/ask", data=body, content_type=kind).status_code == 400  # no CSRF token: refused as such
