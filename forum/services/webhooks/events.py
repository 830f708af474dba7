"""Events into deliveries: for each active webhook subscribed to an event, a delivery is stored with the
payload, but only where ``permissions.webhook_may_carry`` lets its owner see what the event is about.

Services ``stage`` an event inside the transaction of the change it reports, so a committed change always has
its deliveries stored (none lost if the process dies right after), and dispatch the jobs after the commit;
``emit_safely`` is for changes committed already. Deliveries leave through the background worker (``delivery``).
"""
from __future__ import annotations

import logging
import uuid

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ...extensions import db
from ...models import Pattern, Playbook, Reply, Thread, Webhook, WebhookDelivery, utcnow
from ...permissions import webhook_may_carry
from .. import background

log = logging.getLogger(__name__)
DELIVER_WEBHOOK = "groundwork.deliver_webhook"


def _url(path: str) -> str:
    # Payloads travel outside any request: links start from the configured public address of the forum.
    return (current_app.config.get("EXTERNAL_URL") or "").rstrip("/") + path


def _thread_data(thread: Thread) -> dict:
    return {
        "id": thread.id, "title": thread.title, "kind": thread.kind.value, "status": thread.status.value,
        "visibility": thread.visibility.value, "space": thread.space.name if thread.space else None,
        "organisation": thread.organisation.name if thread.organisation else None,
        "author": thread.author.display_name if thread.author else None,
        "tags": sorted(tag.name for tag in thread.tags), "reply_count": thread.reply_count,
        "created_at": thread.created_at.isoformat() + "Z", "url": _url(f"/t/{thread.id}"),
    }


def payload_data(event: str, subject, reply: Reply | None = None) -> dict:
    """The ``data`` of an event's payload: what the event is about, as its subscribers' owners may see it."""
    if isinstance(subject, Thread):
        data = {"thread": _thread_data(subject)}
        if reply is not None and not reply.is_staff_note:
            data["reply"] = {"id": reply.id, "author": reply.author.display_name if reply.author else None,
                             "created_at": reply.created_at.isoformat() + "Z",
                             "url": _url(f"/t/{subject.id}#r{reply.id}")}
        if event == "thread.resolved":
            data["accepted_reply_id"] = subject.accepted_reply_id
        return data
    if isinstance(subject, Playbook):
        return {"playbook": {"id": subject.id, "title": subject.title, "visibility": subject.visibility.value,
                             "pattern_id": subject.pattern_id, "url": _url(f"/playbooks/{subject.id}")}}
    if isinstance(subject, Pattern):
        return {"pattern": {"id": subject.id, "name": subject.name, "keywords": list(subject.keywords or [])[:10],
                            "url": _url(f"/patterns/{subject.id}")}}
    return {}


def subject_type(subject) -> str:
    return {Thread: "thread", Playbook: "playbook", Pattern: "pattern"}.get(type(subject), "webhook")


def stage(event: str, subject, reply: Reply | None = None) -> list[background.Job]:
    """Add a delivery of ``event`` for every subscribed webhook whose owner may see ``subject`` to the caller's
    transaction (so the event commits, or not, with the change it reports); the jobs to dispatch after the commit.

    A failure while building them is logged and leaves the caller's change alone.
    """
    try:
        hooks = [h for h in db.session.execute(select(Webhook).where(Webhook.active.is_(True))).scalars()
                 if event in (h.events or [])]
        rows = [_delivery(hook, event, subject_type(subject), subject.id, payload_data(event, subject, reply))
                for hook in hooks if webhook_may_carry(hook, subject)]
    except SQLAlchemyError:
        raise  # the database failing fails the caller's change too; swallowed, its commit would fail obscurely
    except Exception:  # noqa: BLE001 - the change must not fail because an event could not be described
        log.exception("webhook event %s could not be prepared", event)
        return []
    if not rows:
        return []
    db.session.add_all(rows)
    db.session.flush()
    return [background.enqueue(DELIVER_WEBHOOK, row.id) for row in rows]


def emit(event: str, subject, reply: Reply | None = None) -> list[background.Job]:
    """``stage``, commit and dispatch in one go (for events that follow a change already committed)."""
    jobs = stage(event, subject, reply)
    db.session.commit()
    background.dispatch(*jobs)
    return jobs


def _delivery(hook: Webhook, event: str, kind: str, subject_id: int, data: dict) -> WebhookDelivery:
    key = str(uuid.uuid4())
    now = utcnow()
    row = WebhookDelivery(webhook_id=hook.id, event=event, event_key=key, subject_type=kind, subject_id=subject_id,
                          payload={"id": key, "event": event, "created_at": now.isoformat() + "Z", "data": data},
                          next_attempt_at=now, created_at=now)
    return row


def ping(hook: Webhook) -> int:
    """A test event for one webhook (its owner presses "Send a test event"); the delivery's id."""
    row = _delivery(hook, "ping", "webhook", hook.id, {"webhook": {"id": hook.id, "events": list(hook.events)}})
    db.session.add(row)
    db.session.flush()
    job = background.enqueue(DELIVER_WEBHOOK, row.id)
    db.session.commit()
    background.dispatch(job)
    return row.id


def emit_safely(event: str, subject, reply: Reply | None = None) -> None:
    """``emit`` after the reported change committed: a failure is logged, never raised."""
    try:
        emit(event, subject, reply)
    except Exception:  # noqa: BLE001 - the change itself is saved; a lost event is logged
        db.session.rollback()
        log.exception("webhook event %s could not be stored", event)
