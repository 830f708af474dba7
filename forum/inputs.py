"""Request input the databases can hold: the client's mistakes answer 4xx before they reach SQL.

Found by fault drills, each once a 500: JSON nested deeper than Python's recursion limit (``RecursionError``
escapes ``get_json``, which only turns ``ValueError`` into a 400); a lone surrogate such as ``"\\ud800"`` (JSON
decodes it, neither database can encode it at commit). NUL in a URL is looked for where a name from the path
reaches the database (member and organisation pages answer 404); what still slips through, a value PostgreSQL
refuses as data, is a 400 in ``errors.py``.
"""
from __future__ import annotations

import re

from flask import Flask
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


def init_inputs(app: Flask) -> None:
    """Install the strict JSON provider."""
    app.json = StrictJSONProvider(app)
