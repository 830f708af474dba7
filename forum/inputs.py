"""Request input the databases can hold: the client's mistakes answer 4xx before they reach SQL.

Found by fault drills, each once a 500: JSON nested deeper than Python's recursion limit (``RecursionError``
escapes ``get_json``, which only turns ``ValueError`` into a 400); a lone surrogate such as ``"\\ud800"`` (JSON
decodes it, neither database can encode it at commit). NUL in a URL is looked for where a name from the path
reaches the database (member and organisation pages answer 404); what still slips through, a value PostgreSQL
refuses as data, is a 400 in ``errors.py``.
"""
from __future__ import annotations

import re

from flask import Flask, Request, current_app, request
from flask.json.provider import DefaultJSONProvider

_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that too deep a document or a lone surrogate is malformed input (a 400)."""

    def loads(self, s: str | bytes, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if has_lone_surrogate(value):
            raise ValueError("JSON text with a lone surrogate (not valid Unicode)")
        return value


def has_lone_surrogate(value) -> bool:
    """Whether any string in a decoded JSON document (keys included) holds a lone UTF-16 surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class NamedPartsRequest(Request):
    """Flask's request, except that a multipart part without a name is dropped: browsers never send one, it
    names no field, and Flask-WTF's CSRF check (which compares every field name) failed on it with a 500."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        parsed = self.__dict__
        for key in ("form", "files"):
            values = parsed.get(key)
            if values is not None and None in values:
                parsed[key] = self.parameter_storage_class(
                    [(name, value) for name, value in values.items(multi=True) if name is not None])


def room_for_files() -> None:
    """Let this request, if it carries files (multipart), exceed ``MAX_CONTENT_LENGTH`` by at most its files'
    allowance (``ATTACHMENT_MAX_FILES`` of ``ATTACHMENT_MAX_BYTES``).

    Call it from a URL value preprocessor: those run before every ``before_request`` hook, CSRF's among them,
    which reads the form. The text fields stay bounded by ``MAX_FORM_MEMORY_SIZE``; a request without files
    keeps ``MAX_CONTENT_LENGTH`` as everywhere.
    """
    if request.mimetype == "multipart/form-data":
        allowance = int(current_app.config["ATTACHMENT_MAX_BYTES"]) * int(current_app.config["ATTACHMENT_MAX_FILES"])
        request.max_content_length = current_app.config["MAX_CONTENT_LENGTH"] + allowance


def init_inputs(app: Flask) -> None:
    """Install the strict JSON provider and the request that drops nameless multipart parts."""
    app.json = StrictJSONProvider(app)
    app.request_class = NamedPartsRequest
