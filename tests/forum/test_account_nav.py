"""The account pages lead to every account setting, the API tokens page included, by labelled links."""
from __future__ import annotations

import re


def test_token_page_is_reachable_from_the_account_and_the_profile(client, login, make):
    user = make.user(make.customer_org())
    login(user)
    account = client.get("/account").get_data(as_text=True)
    nav = re.search(r'<nav class="account-nav" aria-label="Account">(.*?)</nav>', account, re.S).group(1)
    assert re.search(r'<a href="/account/tokens/">API tokens</a>', nav)
    profile = client.get(f"/u/{user.username}").get_data(as_text=True)
    assert '<a href="/account/tokens/">API tokens</a>' in profile

    tokens = client.get("/account/tokens/").get_data(as_text=True)
    # The current page is announced as such in the account navigation.
    assert '<a href="/account/tokens/" aria-current="page">API tokens</a>' in tokens
    assert '<label for="token-name">Name</label>' in tokens and '<label for="token-scope">Scope</label>' in tokens


def test_revoke_buttons_say_which_token(client, login, make):
    from forum.services.orgs import tokens

    user = make.user(make.customer_org())
    tokens.create_token(user, "nightly export", "read")
    tokens.create_token(user, "dashboard", "read")
    login(user)
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert 'Revoke<span class="visually-hidden"> token nightly export</span>' in page
    assert 'Revoke<span class="visually-hidden"> token dashboard</span>' in page
