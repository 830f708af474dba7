"""Pages of a list query, for every list page and API list that pages by number."""
from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from ..extensions import db


def page_of(query: Select, page: int, per_page: int) -> Pagination:
    """Page ``page`` (from 1; a number below 1 reads as 1) of ``query``'s rows, ``per_page`` to a page."""
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
