"""@mentions: rendered as links to the member's profile (in posts and in the inbox), and the composer's
autocomplete, which offers only members who can read the thread being replied to."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum import permissions
from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Notification, NotificationKind, User, Visibility, utcnow
from tests.forum.board.test_pages import Browser

# --- rendering -----------------------------------------------------------------------------------

def test_mentions_render_as_profile_links():
    html = render_markdown("Thanks @jo.smith. Ask @Ops-Team, not me@example.test or `@in_code`.")
    assert '<a href="/u/jo.smith" class="mention"' in html or '<a class="mention" href="/u/jo.smith"' in html
    assert ">@jo.smith</a>." in html  # the sentence's full stop is not part of the name
    assert 'href="/u/Ops-Team"' in html
    assert "me@example.test" in html and 'href="/u/example.test"' not in html
    assert "<code>@in_code</code>" in html
    inside_link = render_markdown("[ping @bob](https://example.test/x)")
    assert inside_link.count("<a ") == 1 and 'href="/u/bob"' not in inside_link


def test_a_mention_of_an_organisation_opens_its_page(app, make):
    org = make.customer_org()
    page = Browser(app, make.user()).get(f"/u/{org.slug}")
    assert page.status_code == 302 and page.headers["Location"].endswith(f"/orgs/{org.slug}")
    assert Browser(app, make.user()).get("/u/nobody-by-this-name").status_code == 404


def test_mentions_in_the_inbox_are_links(app, make):
    asker, replier = make.user(username="asker"), make.user(username="rowan", display_name="Rowan Reply")
    thread = make.thread(asker)
    reply = make.reply(thread, replier, "Hello @asker, @sam.lee knows this one.")
    db.session.add(Notification(user_id=asker.id, kind=NotificationKind.MENTION, actor_id=replier.id,
                                thread_id=thread.id, reply_id=reply.id))
    db.session.commit()
    page = Browser(app, asker).html("/inbox")
    assert '<a href="/u/rowan">Rowan Reply</a> mentioned you in' in page
    excerpt = page[page.index('inbox-excerpt">'):]
    excerpt = excerpt[:excerpt.index("</p>")]
    assert '<a href="/u/asker" class="mention">@asker</a>' in excerpt
    assert '<a href="/u/sam.lee" class="mention">@sam.lee</a>' in excerpt


# --- who may be offered --------------------------------------------------------------------------

@pytest.fixture()
def cast(make):
    owner, other, partner_firm, idle_partner_firm = (make.customer_org(), make.customer_org(),
                                                     make.partner_org(), make.partner_org())
    make.engage(partner_firm, owner)
    people = {
        "asker": make.user(owner, username="pat.asker"), "colleague": make.user(owner, username="pat.colleague"),
        "outsider": make.user(other, username="pat.outsider"), "partner": make.user(partner_firm, username="pat.partner"),
        "idle_partner": make.user(idle_partner_firm, username="pat.idle"),
        "employee": make.employee(username="pat.employee"),
        "gone": make.user(owner, username="pat.gone", active=False),
    }
    return people


def _names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [m["username"] for m in response.get_json()["members"]]


def test_autocomplete_offers_only_members_who_can_read_a_private_thread(app, make, cast):
    thread = make.thread(cast["asker"], Visibility.ORG_PRIVATE)
    names = _names(Browser(app, cast["asker"]).get(f"/t/{thread.id}/mentions?q=pat"))
    assert set(names) == {"pat.colleague", "pat.partner", "pat.employee"}  # never oneself, nor an inactive member
    # Someone who cannot see the thread learns nothing, not even that it exists.
    assert Browser(app, cast["outsider"]).get(f"/t/{thread.id}/mentions?q=pat").status_code == 404
    public = make.thread(cast["asker"])
    assert "pat.outsider" in _names(Browser(app, cast["asker"]).get(f"/t/{public.id}/mentions?q=pat"))
    # The prefix matches the start of a username or a display name, case-insensitively.
    assert _names(Browser(app, cast["asker"]).get(f"/t/{public.id}/mentions?q=PAT.OUT")) == ["pat.outsider"]
    assert _names(Browser(app, cast["asker"]).get(f"/t/{public.id}/mentions?q=")) == []
    assert Browser(app).get(f"/t/{public.id}/mentions?q=pat").status_code in (302, 401)


def test_the_readers_rule_agrees_with_can_view(make, cast):
    asker = cast["asker"]
    threads = [make.thread(asker, v) for v in Visibility]
    hidden = make.thread(asker)
    hidden.hidden_at = utcnow()
    merged = make.thread(asker, Visibility.ORG_PRIVATE)
    merged.merged_into_id = threads[0].id
    db.session.commit()
    users = list(db.session.execute(select(User).where(User.active.is_(True))).scalars())
    for thread in [*threads, hidden, merged]:
        readers = set(db.session.execute(select(User.id).where(permissions.thread_readers(thread))).scalars())
        expected = {u.id for u in users if permissions.can_view(u, thread)}
        assert readers & {u.id for u in users} == expected, (thread.visibility, thread.hidden_at, thread.merged_into_id)


def test_the_composer_wires_the_autocomplete(app, make):
    user = make.user()
    thread = make.thread(user)
    reply = make.reply(thread, user)
    browser = Browser(app, user)
    # The reply box, and the editors of the thread and of a reply in it, offer the thread's readers.
    for url in (f"/t/{thread.id}", f"/t/{thread.id}/edit", f"/r/{reply.id}/edit"):
        page = browser.html(url)
        assert f'data-mention-url="/t/{thread.id}/mentions"' in page, url
        assert "/static/mentions.js" in page, url
