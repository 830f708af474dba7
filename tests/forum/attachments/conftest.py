"""The world the attachment tests share: two customer organisations, a moderator, a space, a private and a public
thread asked by Ann, and a store of their own."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from forum.models import Visibility


@pytest.fixture()
def world(app, make, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "store")
    a, b = make.customer_org("Alpha"), make.customer_org("Beta")
    w = SimpleNamespace(ann=make.user(a), bea=make.user(b), cid=make.user(a), store=tmp_path / "store")
    w.moderator = make.employee(is_moderator=True)
    w.space = make.space()
    w.private = make.thread(w.ann, Visibility.ORG_PRIVATE, space=w.space, title="Import fails on db01",
                            body="The nightly import fails.")
    w.public = make.thread(w.ann, space=w.space, title="A public question", body="Public text.")
    return w
