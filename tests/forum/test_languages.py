"""Languages: the German catalog is complete and current, members choose their language, visitors get their
browser's, dates and numbers follow the locale, and search finds German text.

The pages are read through real routes; a German page shows none of the interface's English strings (taken from
the catalog itself, see tests/i18n_support.py) outside what members wrote.
"""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from flask_babel import force_locale

from forum.extensions import db
from forum.languages import LANGUAGES
from forum.models import MailMessage, User, utcnow
from forum.services.board.search import SearchFilters, search_threads
from forum.services.orgs import password_reset
from forum.templating import age, local_date, local_number, timeago
from tests.factories import csrf_token_from
from tests.forum.board.test_pages import Browser
from tests.forum.patterns import pattern_factories
from tests.i18n_support import (
    CATALOG,
    bare_english,
    english_left,
    english_ui_strings,
    german_catalog,
    page_texts,
)

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}


def _whole(text):
    return tuple(text) if isinstance(text, (list, tuple)) else text


def _extracted_ids() -> set[str]:
    """Every message the sources hold now, extracted with babel.cfg as the README's command does."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / "forum", method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_of_the_sources_has_a_german_translation():
    catalog = german_catalog()
    german = {}
    for message in catalog:
        if message.id:
            key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
            strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
            german[key] = (all(strings), "fuzzy" in message.flags)
    missing = sorted(m for m in _extracted_ids() if m not in german)
    untranslated = sorted(m for m, (done, fuzzy) in german.items() if not done or fuzzy)
    assert not missing, f"{len(missing)} messages not in the German catalog (run the README's update): {missing[:10]}"
    assert not untranslated, f"{len(untranslated)} messages without a German translation: {untranslated[:10]}"


def test_no_template_writes_english_outside_gettext():
    bare = {}
    for path in sorted((ROOT / "forum" / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            found = bare_english(path.read_text(encoding="utf-8"))
            if found:
                bare[str(path.relative_to(ROOT))] = found[:5]
    assert bare == {}, "text outside _() / {% trans %} (it cannot be translated):\n" + "\n".join(
        f"{path}: {found}" for path, found in bare.items())


def test_the_compiled_catalog_is_the_current_one():
    def pairs(catalog):
        return {_whole(m.id): _whole(m.string) for m in catalog if m.id}

    with CATALOG.with_suffix(".mo").open("rb") as handle:
        compiled = pairs(read_mo(handle))
    written = pairs(german_catalog())
    assert compiled == written, "forum/translations/de/LC_MESSAGES/messages.mo is stale: run pybabel compile"


def test_a_placeholder_stays_a_placeholder_in_german():
    for message in german_catalog():
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        names = {part.split(")")[0] for part in ids[0].split("%(")[1:]}
        for german in strings:
            assert {part.split(")")[0] for part in german.split("%(")[1:]} <= names | {"num"}, (ids[0], german)


@pytest.fixture()
def world(make):
    customer = make.user(display_name="Greta Kunde")
    space = make.space("Integrations")
    thread = make.thread(customer, space=space, title="LDAP sync times out at night",
                         body="The nightly LDAP sync stops after 30 minutes.",
                         created_at=utcnow() - timedelta(days=3), last_activity_at=utcnow() - timedelta(days=3))
    make.reply(thread, make.user(customer.organisation), body="Raise the page size.")
    other = make.thread(make.user(make.customer_org()), space=space, title="LDAP sync stops after 30 minutes")
    lead = make.employee(is_lead=True, display_name="Lena Leitung")
    pattern = pattern_factories.pattern("LDAP sync timeout", [thread, other], keywords=["ldap", "sync"],
                                        representatives=[thread])
    members_wrote = {customer.display_name, lead.display_name, space.name, thread.title, other.title, pattern.name,
                     customer.organisation.name, other.organisation.name, lead.organisation.name, "ldap", "sync"}
    return customer, lead, space, thread, members_wrote


def _english_on(browser: Browser, url: str, members_wrote: set[str], english: set[str]) -> list[str]:
    response = browser.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200, url
    return english_left(page_texts(response.get_data(as_text=True)), english, members_wrote)


def _choose(browser: Browser, user: User, locale: str):
    page = browser.html("/account")
    return browser.open("POST", "/account", data={
        "csrf_token": csrf_token_from(page), "display_name": user.display_name, "bio": "", "locale": locale})


def test_a_member_who_chooses_german_gets_the_main_pages_in_german(app, world):
    customer, lead, space, thread, members_wrote = world
    english = english_ui_strings()
    browser = Browser(app, customer)
    assert "Latest threads" in browser.html("/")
    response = _choose(browser, customer, "de")
    assert response.status_code == 302
    assert db.session.get(User, customer.id).locale == "de"
    # the stored choice wins over the browser's English
    home = browser.html("/", headers={"Accept-Language": "en"})
    assert "Neueste Themen" in home and 'lang="de"' in home and "vor 3 Tagen" in home
    lead_browser = Browser(app, lead)
    _choose(lead_browser, lead, "de")
    patterns_page = lead_browser.html("/patterns")
    assert "Häufige Muster" in patterns_page and "LDAP sync timeout" in patterns_page
    assert _english_on(lead_browser, "/patterns", members_wrote, english) == []
    for url in ("/", f"/s/{space.slug}", "/ask", "/account", f"/u/{customer.username}", f"/t/{thread.id}"):
        assert _english_on(browser, url, members_wrote, english) == [], url


def test_back_to_the_browser_s_language(app, world):
    customer = world[0]
    browser = Browser(app, customer)
    _choose(browser, customer, "de")
    _choose(browser, customer, "")
    assert db.session.get(User, customer.id).locale is None
    assert "Neueste Themen" in browser.html("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert "Latest threads" in browser.html("/", headers={"Accept-Language": "fr-FR,en;q=0.5"})


def test_a_visitor_gets_the_browser_s_language_and_english_otherwise(app, world):
    english = english_ui_strings()
    browser = Browser(app)
    german = browser.get("/login", headers={"Accept-Language": "de-CH, de;q=0.9"}).get_data(as_text=True)
    assert "Bei Groundwork anmelden" in german
    assert english_left(page_texts(german), english) == []
    assert "Sign in to Groundwork" in browser.html("/login", headers={"Accept-Language": "ja, fr;q=0.8"})
    assert "Sign in to Groundwork" in browser.html("/login")
    # a form error and a flash message come in the visitor's language too
    page = browser.html("/login", headers={"Accept-Language": "de"})
    failed = browser.open("POST", "/login", headers={"Accept-Language": "de"},
                          data={"csrf_token": csrf_token_from(page), "email": "", "password": ""})
    assert "Geben Sie Ihre E-Mail-Adresse ein." in failed.get_data(as_text=True)
    missing = browser.get("/no-such-page", headers={"Accept-Language": "de"})
    assert missing.status_code == 404 and "Hier ist nichts, oder Sie dürfen es nicht sehen." in missing.get_data(
        as_text=True)


def test_only_a_shipped_language_is_stored(app, world):
    customer = world[0]
    response = _choose(Browser(app, customer), customer, "xx")
    assert response.status_code == 400
    assert db.session.get(User, customer.id).locale is None
    assert set(LANGUAGES) == {"en", "de"}


def test_dates_numbers_and_ages_follow_the_locale(app):
    three_days = utcnow() - timedelta(days=3, minutes=5)
    with app.test_request_context("/"):
        assert (timeago(three_days), age(three_days), local_number(12345.5)) == ("3 days ago", "3 days", "12,345.5")
        assert local_date(three_days.date().replace(year=2026, month=12, day=6)) == "Dec 6, 2026"
        with force_locale("de"):
            assert timeago(three_days) == "vor 3 Tagen" and age(three_days) == "3 Tage"
            assert timeago(utcnow() - timedelta(hours=1, minutes=1)) == "vor 1 Stunde"
            assert timeago(utcnow()) == "gerade eben"
            assert local_number(12345.5) == "12.345,5"
            assert local_date(three_days.date().replace(year=2026, month=12, day=6)) == "06.12.2026"


def test_full_text_search_finds_german_text(make):
    customer = make.user()
    wanted = make.thread(customer, title="Überweisungsdatei wird beim Import abgelehnt",
                         body="Seit dem Update auf 2026.1 lehnt der Import die SEPA-Überweisungsdatei ab: "
                              "Prüfsumme ungültig, Zeichensatz ISO-8859-15.")
    make.thread(customer, title="Zertifikat läuft nächste Woche ab", body="Wie erneuern wir das Zertifikat?")

    def found(query: str) -> list[int]:
        return [t.id for t in search_threads(customer, query, 1, 20, SearchFilters()).items]

    assert found("Überweisungsdatei") == [wanted.id]
    assert found("überweisungsdatei") == [wanted.id]           # case folded beyond ASCII
    assert found("Prüfsumme ungültig") == [wanted.id]          # words of the body, umlauts and all
    assert found("SEPA-Überweisungsdatei Import") == [wanted.id]
    assert wanted.id not in found("Zertifikat")


def test_mail_goes_out_in_the_recipient_s_language(app, make):
    german, english = make.user(locale="de", display_name="Greta Kunde"), make.user(display_name="Ed English")
    with app.test_request_context("/forgot", headers={"Accept-Language": "en"}):
        password_reset.request_reset(german.email)
    with app.test_request_context("/forgot", headers={"Accept-Language": "de"}):
        password_reset.request_reset(english.email)   # no stored choice: the language of the request that asked
    mails = {m.recipient: m for m in db.session.execute(db.select(MailMessage)).scalars()}
    assert mails[german.email].subject == "[Groundwork] Passwort zurücksetzen"
    assert "Hallo Greta Kunde" in mails[german.email].body_text
    assert "Wählen Sie hier ein neues Passwort:" in mails[german.email].body_text
    assert "Hallo Ed English" in mails[english.email].body_text


def test_a_german_member_gets_service_refusals_in_german(app, world):
    """Refusals raised by services (a file type, a tag rule) reach the form in the member's language."""
    customer, _lead, _space, thread, _members_wrote = world
    browser = Browser(app, customer)
    _choose(browser, customer, "de")
    refused = browser.open("POST", f"/t/{thread.id}/reply", content_type="multipart/form-data", data={
        "csrf_token": browser.token(), "body": "Hier ist unser Installer.",
        "files": [(io.BytesIO(b"MZ\x90\x00"), "setup.exe")]})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "setup.exe: Dateien dieser Art können nicht angehängt werden." in page
    assert "cannot be attached" not in page
    too_many_tags = browser.post("/ask", space=str(world[2].id), kind="question", visibility="public",
                                 title="LDAP-Synchronisation bricht nachts ab",
                                 body="Die nächtliche Synchronisation endet nach 30 Minuten.",
                                 tags="a, b, c, d, e, f")
    assert "Verwenden Sie höchstens 5 Schlagwörter." in too_many_tags.get_data(as_text=True)
    # English stays the default for a member without a choice
    _choose(browser, customer, "")
    english = browser.open("POST", f"/t/{thread.id}/reply", content_type="multipart/form-data", headers={
        "Accept-Language": "en"}, data={"csrf_token": browser.token(), "body": "Here is our installer.",
                                        "files": [(io.BytesIO(b"MZ\x90\x00"), "setup.exe")]})
    assert "setup.exe: this kind of file cannot be attached." in english.get_data(as_text=True)


def test_api_error_messages_follow_accept_language_but_codes_stay(client, world):
    """A bad cursor: the same status and code in both languages, the human message in the asked one."""
    from forum.services.orgs.tokens import create_token

    customer = world[0]
    raw = create_token(customer, "test", "read")[1]
    answers = {lang: client.get("/api/v1/threads?cursor=%21%21", headers={
        "Authorization": f"Bearer {raw}", "Accept-Language": lang}) for lang in ("en", "de")}
    assert answers["en"].status_code == answers["de"].status_code == 400
    assert answers["en"].json["error"]["code"] == answers["de"].json["error"]["code"] == 400
    assert answers["en"].json["error"]["message"] == "The cursor is not valid."
    assert answers["de"].json["error"]["message"] == "Der Cursor ist ungültig."
    bad_limit = client.get("/api/v1/threads?limit=0", headers={"Authorization": f"Bearer {raw}",
                                                               "Accept-Language": "de"})
    assert bad_limit.status_code == 400
    assert bad_limit.json["error"]["message"] == "limit muss eine ganze Zahl von 1 bis 100 sein."


def test_a_german_notification_mail_says_what_to_stop_watching_in_german(app, make):
    # It read "Beobachtung beenden (Thema)": one sentence with the kind slotted in cannot agree in German
    # ("dieses Thema", "diesen Bereich", "dieses Muster"), so each kind has a sentence of its own.
    from forum.models import WatchTarget
    from forum.services.board import threads
    from forum.services.community import notifications

    watcher, helper = make.user(locale="de"), make.user()
    space = make.space()
    thread = make.thread(watcher, space=space)
    notifications.watch(watcher, WatchTarget.THREAD, thread.id)
    with app.test_request_context("/"):
        threads.add_reply(helper, db.session.get(type(thread), thread.id), "Prüfen Sie die Sperrtabelle.")
    bodies = [m.body_text for m in db.session.execute(db.select(MailMessage)).scalars()]
    assert bodies and all("Dieses Thema nicht mehr beobachten" in b for b in bodies), bodies
    assert not any("Beobachtung beenden" in b for b in bodies)
    from forum.labels import stop_watching

    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert [stop_watching(kind) for kind in WatchTarget] == [
            "Dieses Thema nicht mehr beobachten", "Diesen Bereich nicht mehr beobachten",
            "Dieses Schlagwort nicht mehr beobachten", "Dieses Muster nicht mehr beobachten",
            "Dieses Playbook nicht mehr beobachten"]


def test_no_view_form_or_account_page_hands_over_english_outside_gettext():
    """Flash messages, form errors, choices and descriptions written in Python go through gettext too (the
    API's OpenAPI document is English by design)."""
    from tests.i18n_support import english_literals

    found = []
    for folder in ("views", "api", "forms"):
        for path in sorted((ROOT / "forum" / folder).glob("*.py")):
            if path.name != "openapi.py":
                found += english_literals(path, ROOT)
    assert found == [], "English the reader sees, outside gettext:\n" + "\n".join(found)


def _flashes(response) -> list[str]:
    import html as html_text
    import re

    return [html_text.unescape(m) for m in re.findall(r'<p class="flash flash-\w+">([^<]*)</p>',
                                                       response.get_data(as_text=True))]


def test_what_a_german_member_is_told_after_acting_is_german(app, world, make):
    from forum.models import Reply
    from forum.services.orgs.tokens import create_token

    customer, _lead, _space, thread, _members_wrote = world
    reply = db.session.execute(db.select(Reply).where(Reply.thread_id == thread.id)).scalar_one()
    browser = Browser(app, customer)
    _choose(browser, customer, "de")

    def act(url, **data):
        return _flashes(browser.open("POST", url, data={"csrf_token": browser.token(), **data},
                                     follow_redirects=True))

    assert act(f"/r/{reply.id}/accept") == ["Antwort akzeptiert: Das Thema ist als gelöst markiert."]
    assert act(f"/r/{reply.id}/accept") == ["Die Antwort ist nicht mehr akzeptiert: Das Thema ist wieder offen."]
    assert act(f"/r/{reply.id}/vote", value="1") == [
        "Ihre +1-Stimme ist gezählt: Die Bewertung der Antwort ist jetzt 1."]
    assert act(f"/r/{reply.id}/vote", value="1") == [
        "Ihre Stimme ist zurückgezogen: Die Bewertung der Antwort ist jetzt 0."]
    token = create_token(customer, "ci", "read")[0]
    assert act(f"/account/tokens/{token.id}/revoke") == ["Token widerrufen."]
    # A visitor with a German browser: the password-reset answer and the single sign-on form's refusals.
    visitor = Browser(app)
    german = {"Accept-Language": "de"}
    page = visitor.html("/password/forgot", headers=german)
    sent = visitor.open("POST", "/password/forgot", headers=german,
                        data={"csrf_token": csrf_token_from(page), "email": "nobody@example.com"})
    assert "ist ein Link zum Zurücksetzen des Passworts unterwegs" in sent.get_data(as_text=True)
    page = visitor.html("/login", headers=german)
    refused = visitor.open("POST", "/login/sso", headers=german,
                           data={"csrf_token": csrf_token_from(page), "email": "someone@elsewhere.example"})
    assert refused.status_code == 400
    assert "Für diese E-Mail-Adresse ist kein Single Sign-on eingerichtet" in refused.get_data(as_text=True)


def test_stored_environment_values_are_shown_in_the_reader_s_language(app, make):
    """Hosting is stored as on_premises / cloud / hybrid: the patterns page's filter, a pattern's environment
    sentences and a playbook's 'applies to' show the reader's word for it, and the date filter reads Von / Bis."""
    from forum.models import Playbook, Visibility

    asker = make.user()
    snapshot = {"product": "Ledger", "version": "2026.1", "hosting": "on_premises", "database": "Oracle 19c"}
    threads_ = [make.thread(asker, title=f"Licence lost {i}", deployment_snapshot=snapshot) for i in range(3)]
    pattern = pattern_factories.pattern("Licence lost after upgrade", threads_)
    lead = make.employee(is_lead=True, locale="de")
    playbook = Playbook(title="Re-issue the licence", author_id=lead.id, visibility=Visibility.PUBLIC,
                        applies_to={"hosting": ["on_premises"]})
    db.session.add(playbook)
    db.session.commit()
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = False
    browser = Browser(app, lead)
    index = browser.html("/patterns")
    assert '<option value="on_premises">Vor Ort</option>' in index and ">on premises<" not in index
    assert '<label for="until">Bis</label>' in index
    shown = browser.html(f"/patterns/{pattern.id}")
    assert "3 von 3 Themen mit Hosting Vor Ort" in shown and "threads on" not in shown
    applies = browser.html(f"/playbooks/{playbook.id}")
    assert ">Vor Ort<" in applies and "on premises" not in applies


def test_refusals_and_fill_ins_made_by_services_come_in_german(app, make):
    """Words services make for the reader: a username rule, a conversation without a subject in the inbox (seen
    through the German request's catalog)."""
    from forum.models import Conversation, ConversationMember, Notification, NotificationKind
    from forum.services.community import inbox
    from forum.services.orgs import accounts

    org = make.customer_org()
    _, token = accounts.create_invitation(org, None)
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        with pytest.raises(accounts.FieldErrors) as refused:
            accounts.register_with_invitation(token, email="neu@example.com", username="x", display_name="Neu",
                                              password="a long enough passphrase 2026")
        assert refused.value.errors["username"] == [
            "Verwenden Sie 3–40 Buchstaben, Ziffern, Punkte, Bindestriche oder Unterstriche, beginnend mit einem "
            "Buchstaben oder einer Ziffer."]
    member = make.user(org)
    conversation = Conversation(subject="", created_by_id=member.id)
    db.session.add(conversation)
    db.session.flush()
    db.session.add(ConversationMember(conversation_id=conversation.id, user_id=member.id))
    item = Notification(user_id=member.id, kind=NotificationKind.MESSAGE, conversation_id=conversation.id)
    db.session.add(item)
    db.session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert inbox.describe(member, item).title == "(kein Betreff)"


def test_no_template_hands_english_literals_to_its_expressions():
    """A hint or label given to a macro, or a fallback such as ``subject or '(no subject)'``, goes through _()."""
    from tests.i18n_support import english_in_expressions

    found = {}
    for path in sorted((ROOT / "forum" / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            literals = english_in_expressions(path.read_text(encoding="utf-8"))
            if literals:
                found[str(path.relative_to(ROOT))] = literals
    assert found == {}, "English literals in template expressions (wrap them in _()):\n" + "\n".join(
        f"{path}: {literals}" for path, literals in found.items())


def test_the_employees_only_refusal_names_roles_and_organisation_kinds_in_german(app, make):
    """An admin reading German who makes a customer a lead is told so with German words for the roles and the
    organisation's kind, not the stored English ones."""
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = False
    admin = make.employee(is_admin=True, locale="de")
    customer = make.user(make.customer_org("Cust Inc"), display_name="Carla Kunde")
    browser = Browser(app, admin)
    url = f"/admin/users/{customer.id}"
    response = browser.open("POST", url, data={"csrf_token": csrf_token_from(browser.html(url)),
                                               "is_lead": "y", "is_admin": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "können Implementierungsleitung oder Administrator sein" in page
    assert "Carla Kunde gehört zu Cust Inc (Kunde)" in page
    assert "implementation lead" not in page and "customer" not in page and " admin " not in page


def test_the_audit_log_is_written_in_the_reader_s_language(app, make):
    """Entries keep what happened as a key and its values; the admin's audit page writes the sentence, the
    flag reason and yes/no in the reader's language. An entry written before (English text only) still shows."""
    from forum.models import AuditEntry
    from forum.services.board import threads
    from forum.services.identity import two_factor
    from forum.services.moderation import actions, audit

    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = False
    admin = make.employee(is_admin=True, is_moderator=True, locale="de")
    member = make.user(username="mara")
    thread = make.thread(member, title="Licence lost")
    reply = make.reply(thread, member, body="Me too")
    threads.delete_reply(admin, reply)
    actions.review_flag(admin, actions.flag(member, thread, "spam"), "dismissed")
    two_factor.reset(member, admin)
    audit.record("test.legacy", summary="an entry written in English before", commit=True)
    audit.record("user.flags", admin, actor=admin, before={"is_moderator": False}, after={"is_moderator": True},
                 commit=True)

    page = Browser(app, admin).html("/admin/audit")
    assert f"Antwort {reply.id} im Thema {thread.id}" in page
    assert f"Meldung „Spam“ zu Thema {thread.id}" in page
    assert "Zweiter Faktor von mara zurückgesetzt" in page
    assert "an entry written in English before" in page and "is moderator: nein → ja" in page
    for english in ("in thread", "flag on thread", "second factor of", ": yes", "→ yes", ": no "):
        assert english not in page, english
    # The stored English summary stays (what other readers of the row see).
    stored = db.session.execute(db.select(AuditEntry).filter_by(action="reply.delete")).scalar_one()
    assert stored.summary == f"reply {reply.id} in thread {thread.id}"
