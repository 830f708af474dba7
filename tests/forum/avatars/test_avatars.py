"""Avatars through the real routes: an upload is checked by content, cropped, resized and stripped of EXIF;
without one the initials show; every post of a thread page shows its author's, at no extra query."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import event

from forum.extensions import db
from forum.models import User
from tests.factories import csrf_token_from


def _jpeg_with_exif(size=(300, 200)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _upload(client, data: bytes, name="me.jpg"):
    token = csrf_token_from(client.get("/account/avatar").get_data(as_text=True))
    return client.post("/account/avatar", data={"csrf_token": token, "avatar": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_an_uploaded_avatar_is_square_small_and_without_exif(app, client, make, login):
    user = make.user(display_name="Ann Smith")
    login(user)
    raw = _jpeg_with_exif()
    assert b"SecretCameraMaker" in raw
    assert _upload(client, raw).status_code in (302, 303)
    db.session.expire_all()
    sha = db.session.get(User, user.id).avatar_sha256
    served = client.get(f"/avatars/{user.username}/{sha}.png")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"SecretCameraMaker" not in served.data
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (256, 256) and not image.getexif()
    # Only the current picture is served, and only to members.
    assert client.get(f"/avatars/{user.username}/{'0' * 64}.png").status_code == 404
    assert app.test_client().get(f"/avatars/{user.username}/{sha}.png").status_code in (302, 303)


@pytest.mark.parametrize(("name", "data"), [
    ("me.png", b"<svg onload=alert(1)>"), ("me.jpg", b"GIF89a not really"), ("me.png", b""),
])
def test_a_file_that_is_not_a_picture_is_refused(client, make, login, name, data):
    user = make.user()
    login(user)
    response = _upload(client, data, name)
    assert response.status_code == 400
    assert "picture" in response.get_data(as_text=True).lower()
    db.session.expire_all()
    assert db.session.get(User, user.id).avatar_sha256 is None


def test_initials_without_a_picture_and_back_to_initials(client, make, login):
    user = make.user(display_name="Ann <b>Smith</b>")
    login(user)
    page = client.get(f"/u/{user.username}").get_data(as_text=True)
    assert 'avatar-initials' in page and ">AS</span>" not in page  # "<b>Smith</b>" starts with "<": not a letter
    _upload(client, _jpeg_with_exif())
    assert "/avatars/" in client.get(f"/u/{user.username}").get_data(as_text=True)
    token = csrf_token_from(client.get("/account/avatar").get_data(as_text=True))
    client.post("/account/avatar", data={"csrf_token": token, "remove": "1"})
    db.session.expire_all()
    assert db.session.get(User, user.id).avatar_sha256 is None


def test_every_post_shows_its_authors_avatar_at_no_extra_query(app, client, make, login):
    asker = make.user(display_name="Ann Smith")
    thread = make.thread(asker, title="Avatars on a thread page")
    login(asker)
    _upload(client, _jpeg_with_exif())

    def queries_for_page() -> int:
        count = 0

        def counter(*_args, **_kwargs):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            client.get(f"/t/{thread.id}")
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return count

    repliers = [make.user(display_name="Bob Jones")] + [make.user(display_name=f"Member {i}") for i in range(8)]
    for member in repliers:
        make.reply(thread, member)
    queries_for_page()  # the first view fills per-thread caches (related threads, figures): not what is measured
    with_initials = queries_for_page()
    db.session.expire_all()
    sha = db.session.get(User, asker.id).avatar_sha256
    for member in repliers[1:]:
        db.session.get(User, member.id).avatar_sha256 = sha  # the same stored picture: only the column matters
    db.session.commit()
    queries_for_page()
    with_pictures = queries_for_page()
    # The avatar is read off the author rows the page loads anyway: pictures cost no query over initials.
    assert with_pictures == with_initials, f"{with_initials} queries with initials, {with_pictures} with pictures"
    page = client.get(f"/t/{thread.id}").get_data(as_text=True)
    assert page.count('class="avatar avatar-small') == 10  # the question and nine replies
    assert page.count(f"/{sha}.png") == 9 and ">BJ</span>" in page
