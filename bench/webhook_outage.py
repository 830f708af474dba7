"""Webhook deliveries through a receiver outage: no event lost, none sent twice, and how long the backlog takes
to drain once the receiver is back.

A real HTTP receiver on 127.0.0.1 (the tests' receiver, which verifies every signature) goes down; during the
outage a question is asked every ``--every`` seconds through the real service, so each event's first attempt
fails; the retry sweep of the process (the same as in a served forum) keeps trying with doubling backoff; after
``--outage`` seconds the receiver comes back on the same port. Figures: events, delivered, lost, duplicates,
bad signatures, attempts per delivery, and the time from the receiver's return to the last delivery.

    .venv/bin/python bench/webhook_outage.py [--outage 60] [--every 2] [--retry 5] [--retry-max 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the receiver is down")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between questions during the outage")
    parser.add_argument("--retry", type=float, default=5.0, help="WEBHOOK_RETRY_SECONDS (first backoff)")
    parser.add_argument("--retry-max", type=float, default=20.0, help="WEBHOOK_RETRY_MAX_SECONDS")
    parser.add_argument("--sweep", type=float, default=1.0, help="WEBHOOK_SWEEP_SECONDS")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select

    from forum import create_app
    from forum.extensions import db
    from forum.models import DeliveryStatus, Organisation, OrgKind, Space, User, WebhookDelivery
    from forum.services.board import threads
    from forum.services.webhooks import subscriptions, sweeper
    from tests.forum.webhooks.receiver import Receiver

    folder = Path(tempfile.mkdtemp(prefix="webhook-outage-"))
    app = create_app({
        "SECRET_KEY": "bench-only-" + "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
        "TESTING": True, "MINING_ASSIGN_NEW_THREADS": False, "MINING_IN_BACKGROUND": True,
        "WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SECONDS": args.retry, "WEBHOOK_RETRY_MAX_SECONDS": args.retry_max,
        "WEBHOOK_MAX_ATTEMPTS": 1000, "WEBHOOK_DISABLE_AFTER": 1_000_000, "WEBHOOK_SWEEP_SECONDS": args.sweep,
        "WEBHOOK_TIMEOUT_SECONDS": 5, "NEW_USER_HOURS": 0,
    })
    receiver = Receiver().start()
    with app.app_context():
        upgrade(revision="heads")
        vendor = Organisation(name="Vendor", slug="vendor", kind=OrgKind.VENDOR)
        customer = Organisation(name="Customer", slug="customer", kind=OrgKind.CUSTOMER)
        db.session.add_all([vendor, customer])
        db.session.flush()
        admin = User(email="admin@bench.test", username="admin", display_name="Admin", organisation_id=vendor.id,
                     is_admin=True)
        asker = User(email="asker@bench.test", username="asker", display_name="Asker", organisation_id=customer.id)
        space = Space(slug="q", name="Questions")
        db.session.add_all([admin, asker, space])
        db.session.commit()
        _, receiver.secret = subscriptions.create_webhook(admin, receiver.url, ["thread.created"])
        receiver.stop()
        sweeper.start(app)
        started, asked = time.monotonic(), 0
        while time.monotonic() - started < args.outage:
            threads.create_thread(asker, space=space, title=f"Question {asked}", body="Body", kind="question",
                                  visibility="public")
            asked += 1
            time.sleep(max(0.0, started + asked * args.every - time.monotonic()))
        receiver.start()
        back = time.monotonic()
        while time.monotonic() - back < 600:
            db.session.expire_all()
            pending = db.session.execute(select(WebhookDelivery.id).where(
                WebhookDelivery.status == DeliveryStatus.PENDING)).all()
            if not pending:
                break
            time.sleep(0.2)
        drained = time.monotonic() - back
        sweeper.stop(app)
        rows = db.session.execute(select(WebhookDelivery)).scalars().all()
    receiver.stop()
    received = Counter(r["delivery"] for r in receiver.received)
    keys = {r.event_key for r in rows}
    attempts = [r.attempts for r in rows]
    print(f"outage {args.outage:.0f} s, a question every {args.every:g} s, retry {args.retry:g} s doubling to "
          f"{args.retry_max:g} s, sweep every {args.sweep:g} s")
    print(f"events {asked}; delivered {sum(r.status is DeliveryStatus.DELIVERED for r in rows)}; "
          f"lost {len(keys - set(received))}; duplicates {sum(n - 1 for n in received.values() if n > 1)}; "
          f"bad signatures {sum(not r['signed'] for r in receiver.received)}")
    print(f"attempts per delivery: median {statistics.median(attempts):g}, max {max(attempts)}; "
          f"backlog drained {drained:.1f} s after the receiver came back")


if __name__ == "__main__":
    main()
