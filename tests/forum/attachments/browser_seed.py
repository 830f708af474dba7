"""Seed code for the attachment browser tests (run by ``served_forum``): Ann of Acme Retail, who signs in with
``password``, a public space and Ann's thread ``thread``; the test's own code follows it."""
from __future__ import annotations


def member_with_thread(password: str, title: str, body: str) -> str:
    """Python source that leaves ``db``, ``ann``, ``space`` and ``thread`` defined (and imports json)."""
    return f"""
import json
from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Organisation, OrgKind, Space, Thread, User, Visibility
from forum.passwords import hash_password

acme = Organisation(name="Acme Retail", slug="acme", kind=OrgKind.CUSTOMER)
db.session.add(acme)
db.session.flush()
ann = User(email="ann@acme.test", username="ann", display_name="Ann at Acme",
           password_hash=hash_password({password!r}), organisation_id=acme.id)
space = Space(slug="installations", name="Installations", default_visibility=Visibility.PUBLIC)
db.session.add_all([ann, space])
db.session.flush()
thread = Thread(space_id=space.id, author_id=ann.id, organisation_id=acme.id, title={title!r},
                body_md={body!r}, body_html=render_markdown({body!r}))
db.session.add(thread)
db.session.flush()
"""
