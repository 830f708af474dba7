"""What every view does with a service's answer: a missing row becomes a 404, ``?page=`` a page number."""
from __future__ import annotations

from typing import TypeVar

from flask import abort, request

T = TypeVar("T")


def or_404(row: T | None) -> T:
    """The row a service found, or a 404 Not Found when there is none."""
    if row is None:
        abort(404)
    return row


def page_number() -> int:
    """The ``page`` query argument; 1 when it is missing or not a number (``page_of`` reads 0 or less as 1)."""
    try:
        return int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
