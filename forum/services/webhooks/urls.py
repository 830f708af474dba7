"""Which URLs a webhook may call: http(s) only, no credentials, and no private, loopback or link-local address
unless ``WEBHOOK_ALLOW_PRIVATE`` is set (a server inside the company's network, or tests on localhost).

The host is resolved at subscription time and again before every attempt, so a name that later points inside
the network is refused then too.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext

MAX_URL_LENGTH = 2000


class UnsafeURL(ValueError):
    """The URL may not be called; the message says why, for the form."""


def check_url(url: str) -> str:
    """The URL, stripped, when a webhook may call it; UnsafeURL otherwise."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise UnsafeURL(gettext("Enter the full address, such as https://hooks.example.com/groundwork."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(gettext("That address cannot be read.")) from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(gettext("Only http and https addresses can receive webhooks."))
    if not parts.hostname:
        raise UnsafeURL(gettext("The address needs a host name."))
    if parts.username or parts.password:
        raise UnsafeURL(gettext("Leave credentials out of the address; verify the signature instead."))
    check_host(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    return url


def check_host(host: str, port: int) -> None:
    """Refuse a host that resolves to an address the configuration does not allow (or does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(gettext('The host %(host)s cannot be found.', host=host)) from exc
    if current_app.config.get("WEBHOOK_ALLOW_PRIVATE"):
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(gettext('%(host)s is a private or local address; webhooks call public addresses only.', host=host))
