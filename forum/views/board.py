"""Views for the board area."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("board", __name__)
