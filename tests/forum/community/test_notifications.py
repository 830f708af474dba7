"""Notifications through the real routes: watches, fan-out, mentions, the inbox and its visibility checks."""
from __future__ import annotations

from sqlalchemy import event, select

from forum.extensions import db
from forum.models import Notification, NotificationKind, Visibility, Watch, WatchTarget
from forum.services.community import notifications
from tests.factories import csrf_token_from

CANARY = "CANARY-7f3e-secret-title"


def _token(client, path: str = "/") -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def _inbox(user) -> list[Notification]:
    return list(db.session.execute(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)).scalars())


def _kinds(user) -> list[str]:
    return [n.kind.value for n in _inbox(user)]


def _post_reply(client, thread_id: int, body: str, **extra):
    token = _token(client, f"/t/{thread_id}")
    return client.post(f"/t/{thread_id}/reply", data={"body": body, "csrf_token": token, **extra})


def test_asking_and_replying_watch_the_thread_and_replies_reach_watchers(app, client, make, login):
    customer = make.customer_org()
    asker, helper, bystander = make.user(customer), make.user(make.partner_org()), make.user(customer)
    space = make.space()
    login(asker)
    token = _token(client, "/ask")
    response = client.post("/ask", data={"title": "SSO loops after upgrade", "body": "It loops.", "space": space.id,
                                         "kind": "question", "visibility": "public", "csrf_token": token})
    assert response.status_code in (302, 303)
    thread_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert notifications.is_watching(asker, WatchTarget.THREAD, thread_id)

    other = app.test_client()
    login(helper, other)
    assert _post_reply(other, thread_id, "Clear the cookie cache.").status_code in (302, 303)
    assert notifications.is_watching(helper, WatchTarget.THREAD, thread_id)  # replying watches
    assert _kinds(asker) == ["reply"]
    assert _kinds(helper) == []  # never about one's own reply
    assert _kinds(bystander) == []  # not watching

    # The asker answers back: the helper (now a watcher) hears of it, the asker does not hear of themself.
    assert _post_reply(client, thread_id, "Thanks, trying.").status_code in (302, 303)
    assert _kinds(helper) == ["reply"]
    assert _kinds(asker) == ["reply"]


def test_accept_and_confirm_fan_out_to_the_answerer_and_watchers(app, client, make, login):
    customer, other_customer = make.customer_org(), make.customer_org()
    asker, answerer, confirmer = make.user(customer), make.user(make.partner_org()), make.user(other_customer)
    watcher = make.employee()
    thread = make.thread(asker)
    reply = make.reply(thread, answerer)
    notifications.watch(watcher, WatchTarget.THREAD, thread.id)
    login(asker)
    token = _token(client, f"/t/{thread.id}")
    assert client.post(f"/r/{reply.id}/accept", data={"csrf_token": token}).status_code in (302, 303)
    assert _kinds(answerer) == ["accepted"]
    assert _kinds(watcher) == ["accepted"]
    assert _kinds(asker) == []

    deployment = make.deployment(other_customer)
    second = app.test_client()
    login(confirmer, second)
    token = _token(second, f"/t/{thread.id}")
    response = second.post(f"/t/{thread.id}/confirm", data={"deployment": deployment.id, "csrf_token": token})
    assert response.status_code in (302, 303)
    assert _kinds(answerer) == ["accepted", "confirmed"]
    assert _kinds(watcher) == ["accepted", "confirmed"]
    assert _kinds(confirmer) == []


def test_mentions_of_users_and_organisations_only_reach_people_who_may_see(app, client, make, login):
    customer, outsider_org = make.customer_org(), make.customer_org()
    asker = make.user(customer)
    colleague, colleague2 = make.user(customer), make.user(customer)
    outsider = make.user(outsider_org, username="outsider")
    named = make.user(make.partner_org(), username="named.person")
    thread = make.thread(asker, visibility=Visibility.ORG_PRIVATE)
    login(asker)
    body = f"Asking @{customer.slug} and @outsider and @Named.Person. Mail me at me@{outsider_org.slug}.test"
    assert _post_reply(client, thread.id, body).status_code in (302, 303)
    assert _kinds(colleague) == ["mention"] and _kinds(colleague2) == ["mention"]
    assert _kinds(outsider) == []  # org-private thread of another organisation
    assert _kinds(named) == []  # a partner without an engagement cannot see it either
    assert _kinds(asker) == []  # mentioning one's own organisation does not notify oneself

    public = make.thread(asker)
    assert _post_reply(client, public.id, "cc @outsider").status_code in (302, 303)
    assert _kinds(outsider) == ["mention"]


def test_staff_notes_notify_employees_only(app, client, make, login):
    customer = make.customer_org()
    asker, staff, colleague = make.user(customer), make.employee(), make.employee()
    thread = make.thread(asker)
    notifications.watch(asker, WatchTarget.THREAD, thread.id)
    notifications.watch(colleague, WatchTarget.THREAD, thread.id)
    login(staff)
    response = _post_reply(client, thread.id, f"Internal: {CANARY} @{asker.username}", staff_note="y")
    assert response.status_code in (302, 303)
    assert _kinds(asker) == []
    assert _kinds(colleague) == ["reply"]


def test_space_and_tag_watchers_hear_of_new_threads_they_may_see(app, client, make, login):
    customer = make.customer_org()
    asker, fan, stranger = make.user(customer), make.user(make.customer_org()), make.user(make.customer_org())
    space = make.space()
    login(fan)
    token = _token(client, f"/s/{space.slug}")
    assert client.post("/watch", data={"target": "space", "target_id": space.id, "csrf_token": token}).status_code == 302
    assert notifications.is_watching(fan, WatchTarget.SPACE, space.id)
    # The tag button appears when the space is filtered by a tag that exists.
    from forum.services.board.threads import _tag_rows

    tag = _tag_rows(["sso"])[0]
    db.session.commit()
    notifications.watch(stranger, WatchTarget.TAG, tag.id)
    page = client.get(f"/s/{space.slug}?tag=sso").get_data(as_text=True)
    assert "Unwatch space" in page and "Watch tag" in page

    second = app.test_client()
    login(asker, second)
    token = _token(second, "/ask")
    for visibility, title in (("org_private", CANARY), ("public", "A public question")):
        second.post("/ask", data={"title": title, "body": "b", "space": space.id, "kind": "question",
                                  "visibility": visibility, "tags": "sso", "csrf_token": token})
    assert _kinds(fan) == ["new_thread"]  # only the public one
    assert _kinds(stranger) == ["new_thread"]
    assert CANARY not in client.get("/inbox").get_data(as_text=True)
    assert "A public question" in client.get("/inbox").get_data(as_text=True)

    token = _token(client, f"/s/{space.slug}")
    client.post("/unwatch", data={"target": "space", "target_id": space.id, "csrf_token": token})
    assert not notifications.is_watching(fan, WatchTarget.SPACE, space.id)


def test_watch_refuses_what_the_user_cannot_see(app, client, make, login):
    customer = make.customer_org()
    thread = make.thread(make.user(customer), visibility=Visibility.INTERNAL)
    login(make.user(customer))
    token = _token(client)
    assert client.post("/watch", data={"target": "thread", "target_id": thread.id,
                                       "csrf_token": token}).status_code == 404
    assert client.post("/watch", data={"target": "nonsense", "target_id": 1, "csrf_token": token}).status_code == 400
    assert client.post("/watch", data={"target": "thread", "target_id": 10**12,
                                       "csrf_token": token}).status_code == 404
    assert db.session.execute(select(Watch)).first() is None


def test_inbox_hides_items_whose_thread_became_invisible(app, client, make, login):
    customer = make.customer_org()
    asker, helper = make.user(customer), make.user(make.customer_org())
    thread = make.thread(helper, title=CANARY)
    notifications.watch(helper, WatchTarget.THREAD, thread.id)
    login(asker)
    assert _post_reply(client, thread.id, f"reply text {CANARY}-body").status_code in (302, 303)

    other = app.test_client()
    login(helper, other)
    page = other.get("/inbox").get_data(as_text=True)
    assert CANARY in page and f"{CANARY}-body" in page
    # Made internal after the event: the title and text disappear from the helper's inbox.
    thread.visibility = Visibility.INTERNAL
    db.session.commit()
    page = other.get("/inbox").get_data(as_text=True)
    assert CANARY not in page
    assert "no longer see" in page
    item = _inbox(helper)[0]
    token = _token(other, "/inbox")
    response = other.post("/inbox/open", data={"notification": item.id, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")


def test_mark_read_and_mark_all_read_and_the_unread_badge(app, client, make, login):
    asker, helper = make.user(), make.user()
    threads = [make.thread(asker) for _ in range(3)]
    for thread in threads:
        notifications.watch(asker, WatchTarget.THREAD, thread.id)
        notifications.reply_added(make.reply(thread, helper))
    login(asker)
    page = client.get("/").get_data(as_text=True)
    assert 'Inbox, 3 unread' in page
    first = _inbox(asker)[0]
    token = _token(client, "/inbox")
    response = client.post("/inbox/open", data={"notification": first.id, "csrf_token": token})
    assert response.status_code == 302 and f"/t/{first.thread_id}" in response.headers["Location"]
    assert 'Inbox, 2 unread' in client.get("/").get_data(as_text=True)
    # Someone else's item is a 404, and changes nothing.
    other_item = Notification(user_id=helper.id, kind=NotificationKind.REPLY, thread_id=threads[0].id)
    db.session.add(other_item)
    db.session.commit()
    assert client.post("/inbox/read", data={"notification": other_item.id, "csrf_token": token}).status_code == 404
    assert client.post("/inbox/read-all", data={"csrf_token": token}).status_code == 302
    assert "unread" not in client.get("/").get_data(as_text=True).split("</header>")[0]
    db.session.expire_all()
    assert db.session.get(Notification, other_item.id).read_at is None


def test_inbox_is_paginated_and_its_queries_do_not_grow_with_items(app, client, make, login):
    app.config["PAGE_SIZE"] = 5
    asker, helper = make.user(), make.user()
    login(asker)

    def count_queries(path: str) -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    def add_items(n: int) -> None:
        for _ in range(n):
            thread = make.thread(helper)
            notifications.watch(asker, WatchTarget.THREAD, thread.id)
            notifications.reply_added(make.reply(thread, helper))

    add_items(2)
    client.get("/inbox")
    small, small_home = count_queries("/inbox"), count_queries("/")
    add_items(12)
    large, large_home = count_queries("/inbox"), count_queries("/")
    assert large == small, (small, large)
    assert large_home == small_home  # the unread count in the header is one query whatever the count
    page2 = client.get("/inbox?page=2").get_data(as_text=True)
    assert "Page 2 of 3" in page2


def test_assigned_and_pattern_emerging(app, client, make, login):
    from forum.models import Pattern, ThreadStatus
    from forum.services.board import workflow

    lead, assignee, customer_user = make.employee(is_lead=True), make.employee(), make.user()
    thread = make.thread(customer_user, status=ThreadStatus.NEEDS_STAFF)
    workflow.assign(lead, thread, assignee, workflow.default_due())
    assert _kinds(assignee) == ["assigned"]
    pattern = Pattern(name=f"{CANARY} pattern")
    db.session.add(pattern)
    db.session.commit()
    notifications.pattern_emerging(pattern, recipients=[lead, assignee, customer_user])
    assert _kinds(lead) == ["pattern_emerging"]
    assert "pattern_emerging" in _kinds(assignee)
    assert _kinds(customer_user) == []  # patterns are the vendor's tool
    login(lead)
    assert f"{CANARY} pattern" in client.get("/inbox").get_data(as_text=True)


def test_pattern_and_playbook_pages_have_watch_buttons(app, client, make, login):
    from forum.models import Pattern, Playbook

    lead = make.employee(is_lead=True)
    pattern = Pattern(name="Proxy drops websockets")
    db.session.add(pattern)
    db.session.flush()
    playbook = Playbook(pattern_id=pattern.id, title="Raise the proxy timeout", author_id=lead.id)
    db.session.add(playbook)
    db.session.commit()
    login(lead)
    page = client.get(f"/playbooks/{playbook.id}").get_data(as_text=True)
    assert "Watch playbook" in page
    token = csrf_token_from(page)
    assert client.post("/watch", data={"target": "playbook", "target_id": playbook.id,
                                       "csrf_token": token}).status_code == 302
    assert "Unwatch playbook" in client.get(f"/playbooks/{playbook.id}").get_data(as_text=True)
    assert client.post("/watch", data={"target": "pattern", "target_id": pattern.id,
                                       "csrf_token": token}).status_code == 302
    assert "Unwatch pattern" in client.get(f"/patterns/{pattern.id}").get_data(as_text=True)
    # Watchers hear of playbook changes and of the pattern emerging.
    notifications.playbook_updated(playbook, actor=make.employee(is_lead=True))
    notifications.pattern_emerging(pattern, recipients=[])
    assert sorted(_kinds(lead)) == ["pattern_emerging", "playbook_updated"]


def test_editing_a_playbook_notifies_its_watchers_who_may_see_it(app, make):
    from forum.models import Playbook
    from forum.services.patterns import playbooks

    lead, customer_fan = make.employee(is_lead=True), make.user()
    playbook = Playbook(title="Rotate the signing key", author_id=lead.id)
    db.session.add(playbook)
    db.session.commit()
    fan_staff = make.employee()
    for user in (customer_fan, fan_staff):
        notifications.watch(user, WatchTarget.PLAYBOOK, playbook.id)
    playbooks.update_playbook(lead, playbook, playbooks.PlaybookInput(
        title="Rotate the signing key", problem_md="p", steps_md="s", visibility=Visibility.INTERNAL))
    assert _kinds(fan_staff) == ["playbook_updated"]
    assert _kinds(customer_fan) == []  # now internal
    assert _kinds(lead) == []


def test_mentions_in_a_new_thread_respect_its_visibility(app, client, make, login):
    customer = make.customer_org()
    staff, customer_user, colleague = make.employee(), make.user(customer, username="cust.one"), make.employee()
    space = make.space()
    login(staff)
    token = _token(client, "/ask")
    for visibility, title in (("internal", CANARY), ("public", "Heads-up for everyone")):
        response = client.post("/ask", data={
            "title": title, "body": f"@cust.one and @{colleague.username} please look", "space": space.id,
            "kind": "discussion", "visibility": visibility, "csrf_token": token})
        assert response.status_code in (302, 303)
    assert _kinds(customer_user) == ["mention"]  # the public one only
    assert _kinds(colleague) == ["mention", "mention"]
    other = app.test_client()
    login(customer_user, other)
    page = other.get("/inbox").get_data(as_text=True)
    assert "Heads-up for everyone" in page and CANARY not in page


def test_an_edit_that_adds_a_mention_notifies_only_the_newly_named(app, client, make, login):
    asker, first, second = make.user(), make.user(username="first.one"), make.user(username="second.one")
    thread = make.thread(asker)
    login(asker)
    assert _post_reply(client, thread.id, "cc @first.one").status_code in (302, 303)
    reply_id = _inbox(first)[0].reply_id
    token = _token(client, f"/r/{reply_id}/edit")
    response = client.post(f"/r/{reply_id}/edit", data={"body": "cc @first.one @second.one", "csrf_token": token})
    assert response.status_code in (302, 303)
    assert _kinds(first) == ["mention"]
    assert _kinds(second) == ["mention"]
    token = _token(client, f"/t/{thread.id}/edit")
    response = client.post(f"/t/{thread.id}/edit", data={"title": thread.title, "body": "now @second.one too",
                                                          "tags": "", "csrf_token": token})
    assert response.status_code in (302, 303)
    assert _kinds(second) == ["mention", "mention"]


def test_a_new_catalog_version_tells_leads_once_of_its_review_list(app, client, make, login):
    """Adding a version in the admin catalog puts one inbox item (and its mail) before each lead, linking to
    the playbooks to review on it; customers, partners and staff who are not leads hear nothing, and editing
    the version later does not tell them again."""
    from forum.models import EmailMode, MailMessage, NotificationSetting, Playbook, ProductVersion

    old = make.product_version("Ledger", "2025.2")
    admin = make.employee(is_admin=True)
    lead, german_lead, digest_lead = make.employee(is_lead=True), make.employee(is_lead=True, locale="de"), \
        make.employee(is_lead=True)
    db.session.add(NotificationSetting(user_id=digest_lead.id, email_mode=EmailMode.DIGEST))
    staff, customer_lead, partner = make.employee(), make.user(is_lead=True), make.user(make.partner_org())
    playbook = Playbook(title="Re-issue the licence", author_id=lead.id, visibility=Visibility.PUBLIC,
                        applies_to={"products": ["Ledger"]})
    db.session.add(playbook)
    db.session.commit()

    login(admin)
    page = f"/admin/products/{old.product_id}/versions/new"
    response = client.post(page, data={"name": "2026.1", "csrf_token": _token(client, page)})
    assert response.status_code == 302
    version = db.session.execute(select(ProductVersion).filter_by(name="2026.1")).scalar_one()
    for user in (lead, german_lead, digest_lead):
        assert _kinds(user) == ["version_review"]
        assert _inbox(user)[0].product_version_id == version.id
    for user in (admin, staff, customer_lead, partner):  # the admin added it; the others are not leads
        assert _kinds(user) == []
    mailed = {m.user_id: m for m in db.session.execute(select(MailMessage)).scalars()}
    assert set(mailed) == {lead.id, german_lead.id}  # the digest reader gets it in the digest
    assert f"/playbooks/review/{version.id}" in mailed[lead.id].body_text
    assert "Ledger 2026.1" in mailed[lead.id].subject
    assert "Neue Version im Katalog" in mailed[german_lead.id].subject

    # Editing the version is not a new version: nobody hears of it again.
    edit = f"/admin/versions/{version.id}"
    assert client.post(edit, data={"name": "2026.1 LTS", "csrf_token": _token(client, edit)}).status_code == 302
    assert _kinds(lead) == ["version_review"]

    lead_client = app.test_client()
    login(lead, lead_client)
    inbox_page = lead_client.get("/inbox").get_data(as_text=True)
    assert "Playbooks to review on a new version:" in inbox_page and "Ledger 2026.1 LTS" in inbox_page
    opened = lead_client.post("/inbox/open", data={"notification": _inbox(lead)[0].id,
                                                   "csrf_token": csrf_token_from(inbox_page)})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/playbooks/review/{version.id}")
    assert playbook.title in lead_client.get(f"/playbooks/review/{version.id}").get_data(as_text=True)


def test_a_new_version_with_nothing_to_review_tells_nobody(app, make):
    """A version whose product has no playbooks (a new product's first version) leaves the leads' inbox alone."""
    from forum.services.orgs import catalog

    lead = make.employee(is_lead=True)
    product = make.product_version("Vault", "1.0").product
    catalog.create_version(product, "1.1")
    assert _kinds(lead) == []
