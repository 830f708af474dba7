"""Per-reply links built from one url_for per endpoint equal url_for itself, under a path prefix too."""
from __future__ import annotations

import pytest
from flask import g, url_for

from forum.templating import IdUrl, id_url

ENDPOINTS = ("board.vote", "board.accept", "board.edit_reply", "board.delete_reply", "board.reply_revisions",
             "moderation.flag_reply")


@pytest.mark.parametrize("base", ["http://forum.test/", "http://forum.test/community/"])
def test_id_url_equals_url_for_for_every_reply_link(app, base):
    with app.test_request_context("/t/1", base_url=base):
        for endpoint in ENDPOINTS:
            for reply_id in (1, 7, 42, 987654321, 2_147_483_647):
                assert id_url(endpoint, reply_id=reply_id) == url_for(endpoint, reply_id=reply_id)
        assert len(g._id_urls) == len(ENDPOINTS)  # one build per endpoint and request
        if base.endswith("/community/"):
            assert id_url("board.vote", reply_id=5).startswith("/community/")


def test_a_parameter_outside_the_path_or_another_endpoint_still_equals_url_for(app):
    with app.test_request_context("/"):
        assert IdUrl("board.home", "page")(3) == url_for("board.home", page=3)  # a query string
        assert IdUrl("board.thread", "thread_id")(12) == url_for("board.thread", thread_id=12)
