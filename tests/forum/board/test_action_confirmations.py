"""Every button says what it did: accepting an answer, voting, and renaming a pattern flash a confirmation."""
from __future__ import annotations

import html as html_text
import re

from tests.factories import csrf_token_from
from tests.forum.patterns import pattern_factories as pf


def _flashes(html: str) -> list[str]:
    return [html_text.unescape(m) for m in re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', html)]


def _post(client, url: str, page: str, **data):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True).get_data(as_text=True)


def test_accepting_and_unaccepting_an_answer_say_so(client, make, login):
    org = make.customer_org()
    asker = make.user(org)
    thread = make.thread(asker)
    reply = make.reply(thread, make.employee(), "Restart the sync.")
    login(asker)
    html = _post(client, f"/r/{reply.id}/accept", f"/t/{thread.id}")
    assert _flashes(html) == ["Answer accepted: the thread is marked resolved."]
    html = _post(client, f"/r/{reply.id}/accept", f"/t/{thread.id}")
    assert _flashes(html) == ["The answer is no longer accepted: the thread is open again."]


def test_a_vote_says_what_it_did_and_the_score(client, make, login):
    thread = make.thread(make.user(make.customer_org()))
    reply = make.reply(thread, make.employee(), "Raise the page size.")
    login(make.user(make.customer_org()))
    assert _flashes(_post(client, f"/r/{reply.id}/vote", f"/t/{thread.id}", value="1")) == [
        "Your +1 vote is counted: the reply's score is 1."]
    assert _flashes(_post(client, f"/r/{reply.id}/vote", f"/t/{thread.id}", value="-1")) == [
        "Your −1 vote is counted: the reply's score is -1."]
    assert _flashes(_post(client, f"/r/{reply.id}/vote", f"/t/{thread.id}", value="-1")) == [
        "Your vote is withdrawn: the reply's score is 0."]


def test_renaming_a_pattern_says_its_new_name(client, make, login):
    thread = make.thread(make.user(make.customer_org()))
    pattern = pf.pattern("LDAP sync", [thread])
    login(make.employee(is_lead=True))
    html = _post(client, f"/patterns/{pattern.id}/rename", f"/patterns/{pattern.id}", name="Directory sync timeout")
    assert _flashes(html) == ["Pattern renamed to “Directory sync timeout”."]
