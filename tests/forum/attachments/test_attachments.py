"""Files on posts through the real routes: content checks, storage, who may fetch them, and the headers that
keep a browser from running them; a log's error signatures found by search and read by mining."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from forum.extensions import db
from forum.models import Attachment
from forum.services.vectors.embeddings import thread_documents
from mining.documents import document_signatures
from tests.factories import csrf_token_from

LOG = (b"2026-11-30 10:00:01 INFO starting import of ledger batch 42\n"
       b"2026-11-30 10:00:02 INFO connecting to db01\n"
       b"2026-11-30 10:00:03 ERROR ORA-00942: table or view does not exist\n"
       b"2026-11-30 10:00:04 ERROR java.lang.OutOfMemoryError: Java heap space\n"
       b"2026-11-30 10:00:05 INFO giving up\n")


def png(size=(40, 30), color=(200, 30, 30), exif: bool = False, trailer: bytes = b"") -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCameraMaker"  # Make
        image.save(out, "JPEG", exif=data)
    else:
        image.save(out, "PNG")
    return out.getvalue() + trailer


def _token(client, url="/") -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


def _reply_with(client, thread_id: int, files: list[tuple[str, bytes]], body="Here is our log."):
    data = {"body": body, "csrf_token": _token(client, f"/t/{thread_id}"),
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/t/{thread_id}/reply", data=data, content_type="multipart/form-data")


def test_a_log_on_a_reply_is_stored_by_hash_shown_and_served_only_to_readers(app, client, make, login, world):
    login(world.ann)
    response = _reply_with(client, world.private.id, [("import.log", LOG)])
    assert response.status_code in (302, 303)
    row = db.session.execute(select(Attachment)).scalar_one()
    assert (row.kind.value, row.filename, row.size) == ("text", "import.log", len(LOG))
    assert row.signatures[:2] == ["ORA-00942", "java.lang.OutOfMemoryError"]
    # Content-addressed, outside the static folder.
    stored = world.store / row.sha256[:2] / row.sha256[2:4] / row.sha256
    assert stored.read_bytes() == LOG
    assert not list(Path(app.static_folder).rglob(row.sha256))
    page = client.get(f"/t/{world.private.id}").get_data(as_text=True)
    assert "import.log" in page and "starting import of ledger batch 42" in page and "ORA-00942" in page

    got = client.get(f"/files/{row.id}/import.log")
    assert got.status_code == 200 and got.data == LOG
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["Content-Type"].startswith("text/plain")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    as_text = client.get(f"/files/{row.id}/import.log?view=text")
    assert as_text.status_code == 200 and "attachment" not in as_text.headers.get("Content-Disposition", "")
    assert as_text.headers["Content-Type"].startswith("text/plain")

    # Another customer organisation cannot see the private thread, so not its files either; nor can anonymous.
    other = app.test_client()
    login(world.bea, other)
    assert other.get(f"/files/{row.id}/import.log").status_code == 404
    assert app.test_client().get(f"/files/{row.id}/import.log").status_code in (302, 303)
    colleague = app.test_client()
    login(world.cid, colleague)
    assert colleague.get(f"/files/{row.id}/import.log").status_code == 200


def test_images_are_reencoded_without_exif_or_trailing_bytes_and_get_a_thumbnail(app, client, login, world):
    login(world.ann)
    polyglot = png(size=(800, 600), trailer=b"<html><script>alert(1)</script></html>")
    photo = png(exif=True)
    response = _reply_with(client, world.private.id, [("screen.png", polyglot), ("photo.jpg", photo)])
    assert response.status_code in (302, 303)
    rows = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()
    assert [(r.kind.value, r.content_type, r.width, r.height) for r in rows] == [
        ("image", "image/png", 800, 600), ("image", "image/jpeg", 40, 30)]
    served = client.get(f"/files/{rows[0].id}/screen.png")
    assert served.status_code == 200 and b"<script>" not in served.data
    assert served.headers["Content-Type"] == "image/png"
    assert "attachment" not in served.headers.get("Content-Disposition", "")
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    jpeg = client.get(f"/files/{rows[1].id}/photo.jpg").data
    assert b"SecretCameraMaker" in photo and b"SecretCameraMaker" not in jpeg
    thumb = client.get(f"/thumbs/{rows[0].id}.png")
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.width <= 320 and image.height <= 240
    page = client.get(f"/t/{world.private.id}").get_data(as_text=True)
    assert f'src="/thumbs/{rows[0].id}.png"' in page


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("page.html", b"<html><script>alert(1)</script></html>", "cannot be attached"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "cannot be attached"),
    ("notes.txt", png(), "not a text file"),
    ("shot.png", LOG, "not a readable image"),
    ("core.log", bytes(range(256)) * 4, "not a text file"),
    ("empty.log", b"", "is empty"),
    ("setup.exe", b"MZ\x90\x00", "cannot be attached"),
])
def test_files_are_checked_by_content_and_a_refused_file_refuses_the_post(client, login, world, name, content, reason):
    login(world.ann)
    body = f"A reply carrying {name}"
    response = _reply_with(client, world.private.id, [(name, content)], body=body)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert db.session.execute(select(Attachment)).first() is None
    assert body not in client.get(f"/t/{world.private.id}").get_data(as_text=True)


def test_limits_on_size_and_count(app, client, login, world):
    app.config.update(ATTACHMENT_MAX_FILES=2, ATTACHMENT_MAX_BYTES=1000)
    login(world.ann)
    response = _reply_with(client, world.private.id, [(f"f{i}.log", b"line\n") for i in range(3)])
    assert response.status_code == 400 and "At most 2 files" in response.get_data(as_text=True)
    response = _reply_with(client, world.private.id, [("big.log", b"x" * 1001)])
    assert response.status_code == 400
    assert "big.log is 1001 bytes; a file can be at most 1000 bytes." in response.get_data(as_text=True)
    # Far beyond what a post with files may carry: refused before the form is read.
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = _reply_with(client, world.private.id, [("huge.log", b"y" * 50_000)])
    assert response.status_code == 413
    assert db.session.execute(select(Attachment)).first() is None


def test_the_same_content_twice_is_stored_once(client, login, world):
    login(world.ann)
    _reply_with(client, world.private.id, [("a.log", LOG)])
    _reply_with(client, world.private.id, [("b.log", LOG)])
    rows = db.session.execute(select(Attachment)).scalars().all()
    assert len(rows) == 2 and rows[0].sha256 == rows[1].sha256
    assert len([p for p in world.store.rglob("*") if p.is_file()]) == 1


def test_a_removed_reply_hides_its_files_except_from_moderators(app, client, make, login, world):
    login(world.ann)
    _reply_with(client, world.private.id, [("import.log", LOG)])
    row = db.session.execute(select(Attachment)).scalar_one()
    moderator = app.test_client()
    login(world.moderator, moderator)
    response = moderator.post(f"/r/{row.reply_id}/delete", data={"csrf_token": _token(moderator)})
    assert response.status_code in (302, 303)
    assert client.get(f"/files/{row.id}/import.log").status_code == 404
    assert "import.log" not in client.get(f"/t/{world.private.id}").get_data(as_text=True)
    assert moderator.get(f"/files/{row.id}/import.log").status_code == 200


def test_a_hidden_question_hides_its_files_and_their_signatures_except_from_staff(app, client, login, world):
    """Deleting a question is hiding its thread: its files and the log's signatures go with it."""
    login(world.ann)
    response = client.post("/ask", content_type="multipart/form-data", data={
        "title": "Ledger import breaks", "body": "Log attached.", "space": str(world.space.id), "kind": "question",
        "visibility": "public", "deployment": "0", "csrf_token": _token(client, "/ask"),
        "files": [(io.BytesIO(LOG), "ledger.log"), (io.BytesIO(png()), "screen.png")]})
    thread_id = int(response.headers["Location"].rsplit("/", 1)[1])
    log, image = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()
    urls = [f"/files/{log.id}/ledger.log", f"/files/{image.id}/screen.png", f"/thumbs/{image.id}.png",
            f"/api/v1/attachments/{log.id}"]
    assert [client.get(url).status_code for url in urls] == [200] * 4  # the control
    moderator = app.test_client()
    login(world.moderator, moderator)
    assert moderator.post(f"/t/{thread_id}/hide", data={"on": "1", "csrf_token": _token(moderator)}
                          ).status_code in (302, 303)
    for reader in (client, app.test_client()):
        if reader is not client:
            login(world.cid, reader)
        assert [reader.get(url).status_code for url in urls] == [404] * 4
        assert f'href="/t/{thread_id}"' not in reader.get("/search?q=ORA-00942").get_data(as_text=True)
    assert [moderator.get(url).status_code for url in urls] == [200] * 4


def test_the_uploader_removes_a_file_and_others_cannot(app, client, login, world):
    login(world.ann)
    _reply_with(client, world.private.id, [("import.log", LOG)])
    row = db.session.execute(select(Attachment)).scalar_one()
    colleague = app.test_client()
    login(world.cid, colleague)
    assert colleague.post(f"/attachments/{row.id}/remove", data={"csrf_token": _token(colleague)}).status_code == 403
    assert client.post(f"/attachments/{row.id}/remove", data={"csrf_token": _token(client)}).status_code in (302, 303)
    assert client.get(f"/files/{row.id}/import.log").status_code == 404


def test_a_question_with_a_log_is_found_by_its_signatures_and_mined_with_them(app, client, make, login, world):
    login(world.ann)
    token = _token(client, "/ask")
    response = client.post("/ask", content_type="multipart/form-data", data={
        "title": "Nightly import stops", "body": "The nightly import stops halfway, log attached.",
        "space": str(world.space.id), "kind": "question", "visibility": "org_private", "deployment": "0",
        "csrf_token": token, "files": [(io.BytesIO(LOG), "nightly.log")]})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    thread_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for query in ("ORA-00942", "OutOfMemoryError", "java.lang.OutOfMemoryError"):
        html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
        assert f'href="/t/{thread_id}"' in html, query
    # Someone who cannot see the thread does not find it by the log either.
    other = app.test_client()
    login(world.bea, other)
    assert f'href="/t/{thread_id}"' not in other.get("/search?q=ORA-00942").get_data(as_text=True)
    # Mining reads the log's error lines as part of the question.
    [doc] = thread_documents([thread_id])
    assert "ORA-00942: table or view does not exist" in doc.body
    assert {"ORA-00942", "java.lang.OutOfMemoryError"} <= set(document_signatures(doc))


def test_a_log_on_a_staff_note_is_never_found_by_customers(app, client, make, login, world):
    public = make.thread(world.ann, space=world.space, title="Public question")
    staff = make.employee()
    staff_client = app.test_client()
    login(staff, staff_client)
    data = {"body": "internal analysis", "staff_note": "y", "csrf_token": _token(staff_client, f"/t/{public.id}"),
            "files": [(io.BytesIO(b"ERROR ZZQ-12345 only staff know\n"), "internal.log")]}
    assert staff_client.post(f"/t/{public.id}/reply", data=data,
                             content_type="multipart/form-data").status_code in (302, 303)
    row = db.session.execute(select(Attachment)).scalar_one()
    login(world.ann)
    assert f'href="/t/{public.id}"' not in client.get("/search?q=ZZQ-12345").get_data(as_text=True)
    assert client.get(f"/files/{row.id}/internal.log").status_code == 404
    assert "internal.log" not in client.get(f"/t/{public.id}").get_data(as_text=True)
    assert staff_client.get(f"/files/{row.id}/internal.log").status_code == 200


def test_file_names_carrying_payloads_come_back_inert(app, client, login, world):
    from tests.forum.test_xss import active_content
    from tests.forum.xss_payloads import PAYLOADS

    login(world.ann)
    # (A double quote would end the name in the multipart header itself: browsers send it as %22.)
    chosen = [p for p in PAYLOADS if '"' not in p][:5]
    names = [(f"{payload[:60]}.log", f"line {i}\n".encode()) for i, payload in enumerate(chosen)]
    response = _reply_with(client, world.private.id, names)
    assert response.status_code in (302, 303), re.findall(r"class=\"error\"[^>]*>([^<]*)", response.get_data(as_text=True))
    rows = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()
    assert len(rows) == 5 and not any(set(r.filename) & set("<>\"'`/\\") for r in rows)
    page = client.get(f"/t/{world.private.id}").get_data(as_text=True)
    assert active_content(page) == []
    for row in rows:
        got = client.get(f"/files/{row.id}/{row.filename}")
        assert got.status_code == 200 and "<" not in got.headers["Content-Disposition"]


CANARY = "canarylogline7731"


def test_a_log_on_a_private_thread_never_reaches_outsiders(app, client, make, login, world):
    login(world.ann)
    log = f"ERROR ZZX-40404 {CANARY} while importing\n".encode()
    _reply_with(client, world.private.id, [("private.log", log), ("shot.png", png())])
    ask = client.post("/ask", content_type="multipart/form-data", data={
        "title": "Private question with a log", "body": "See the log.", "space": str(world.space.id),
        "kind": "question", "visibility": "org_private", "deployment": "0", "csrf_token": _token(client, "/ask"),
        "files": [(io.BytesIO(log), "question.log")]})
    question_id = int(ask.headers["Location"].rsplit("/", 1)[1])
    rows = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()
    urls = ["/", f"/s/{world.space.slug}", "/search?q=ZZX-40404", f"/t/{world.private.id}", f"/t/{question_id}",
            f"/u/{world.ann.username}", "/inbox"]
    urls += [f"/files/{r.id}/{r.filename}" for r in rows] + [f"/files/{r.id}/{r.filename}?view=text" for r in rows]
    urls += [f"/thumbs/{r.id}.png" for r in rows]
    outsiders = [world.bea, make.user(make.partner_org("Unengaged"))]
    app.config["PUBLIC_READ"] = True
    for outsider in [*outsiders, None]:
        c = app.test_client()
        if outsider is not None:
            login(outsider, c)
        for url in urls:
            response = c.get(url)
            assert CANARY not in response.get_data(as_text=True), (outsider, url)
            if url.startswith(("/files/", "/thumbs/")):
                assert response.status_code == 404, (outsider, url, response.status_code)
    # The control: a reader of the thread does get the canary.
    assert CANARY.encode() in client.get(f"/files/{rows[0].id}/private.log").data
