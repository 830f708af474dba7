"""The ask page's JSON endpoints: suggestions for a draft question, and the asker opening one.

POST only, with the CSRF token in the ``X-CSRFToken`` header (or a ``csrf_token`` form field, which
is what ``navigator.sendBeacon`` can send), and rate-limited per user.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user, login_required

from ..extensions import limiter
from ..ratelimits import user_or_ip
from ..services.board import deflection
from ..services.board.suggestions import suggest

bp = Blueprint("suggest", __name__, url_prefix="/suggest")


def _suggest_limit() -> str:
    # Typing with the page's debounce stays well below this.
    return current_app.config.get("RATELIMIT_SUGGEST", "120 per minute")


def _payload() -> dict:
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    return data if isinstance(data, dict) else {}


def _text(value: object, limit: int) -> str:
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


def _id(value: object) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


@bp.route("/similar", methods=["POST"])
@login_required
@limiter.limit(_suggest_limit, key_func=user_or_ip)
def similar():
    """``{title, body, draft_key}`` -> the visible threads most like it (resolved first) and a playbook."""
    data = _payload()
    found = suggest(current_user, _text(data.get("title"), current_app.config["TITLE_MAX_LENGTH"] + 100),
                    _text(data.get("body"), current_app.config["POST_MAX_LENGTH"]),
                    deflection.valid_draft_key(data.get("draft_key")))
    playbook = found.playbook
    return jsonify(
        method=found.method,
        threads=[{"id": t.id, "title": t.title, "status": t.status.value, "resolved": t.resolved,
                  "snippet": t.snippet, "url": url_for("board.thread", thread_id=t.id)} for t in found.threads],
        playbook=None if playbook is None else {
            "id": playbook.id, "title": playbook.title, "replications": playbook.replications,
            "url": url_for("playbooks.show", playbook_id=playbook.id)},
    )


@bp.route("/event", methods=["POST"])
@login_required
@limiter.limit(_suggest_limit, key_func=user_or_ip)
def event():
    """``{draft_key, kind: "click", thread_id | playbook_id}``: the asker opened a suggestion."""
    data = _payload()
    if data.get("kind") != deflection.CLICK or deflection.valid_draft_key(data.get("draft_key")) is None:
        return jsonify(error={"code": 400, "message": "Expected a click with a draft key."}), 400
    deflection.record_click(current_user, data["draft_key"], thread_id=_id(data.get("thread_id")),
                            playbook_id=_id(data.get("playbook_id")))
    return "", 204
