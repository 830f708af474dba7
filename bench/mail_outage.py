"""Mail through an SMTP outage: no message lost, none sent twice, and how long the backlog takes to drain once
the server is back.

A real SMTP server on 127.0.0.1 (aiosmtpd, the tests' server) goes down; during the outage a reply is posted every
``--every`` seconds through the real service to a thread ``--watchers`` members watch, so each notification mail's
first attempt fails; the sweep of the process (the same as in a served forum) keeps trying with doubling backoff;
after ``--outage`` seconds the server comes back on the same port. Figures: messages, sent, lost, duplicates,
attempts per message, and the time from the server's return to the last delivery.

    .venv/bin/python bench/mail_outage.py [--outage 60] [--every 2] [--watchers 3] [--retry 5] [--retry-max 20]
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
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the SMTP server is down")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between replies during the outage")
    parser.add_argument("--watchers", type=int, default=3, help="members watching the thread (a mail each)")
    parser.add_argument("--retry", type=float, default=5.0, help="MAIL_RETRY_SECONDS (first backoff)")
    parser.add_argument("--retry-max", type=float, default=20.0, help="MAIL_RETRY_MAX_SECONDS")
    parser.add_argument("--sweep", type=float, default=1.0, help="MAIL_SWEEP_SECONDS")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select

    from forum import create_app
    from forum.extensions import db
    from forum.models import MailMessage, MailStatus, Organisation, OrgKind, Space, User, WatchTarget
    from forum.services.board import threads
    from forum.services.community import notifications
    from forum.services.mail import sweeper
    from tests.smtp_support import SmtpServer

    folder = Path(tempfile.mkdtemp(prefix="mail-outage-"))
    server = SmtpServer()
    server.start()
    app = create_app({
        "SECRET_KEY": "bench-only-" + "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
        "TESTING": True, "MINING_ASSIGN_NEW_THREADS": False, "MINING_IN_BACKGROUND": True, "NEW_USER_HOURS": 0,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_DEFAULT_SENDER": "forum@bench.test",
        "MAIL_RETRY_SECONDS": args.retry, "MAIL_RETRY_MAX_SECONDS": args.retry_max, "MAIL_MAX_ATTEMPTS": 1000,
        "MAIL_SWEEP_SECONDS": args.sweep, "MAIL_TIMEOUT_SECONDS": 5, "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        upgrade(revision="heads")
        customer = Organisation(name="Customer", slug="customer", kind=OrgKind.CUSTOMER)
        db.session.add(customer)
        db.session.flush()
        people = [User(email=f"member{i}@bench.test", username=f"member{i}", display_name=f"Member {i}",
                       organisation_id=customer.id) for i in range(args.watchers + 1)]
        space = Space(slug="q", name="Questions")
        db.session.add_all([*people, space])
        db.session.commit()
        replier, watchers = people[0], people[1:]
        thread = threads.create_thread(watchers[0], space=space, title="Outage thread", body="Body",
                                       kind="question", visibility="public")
        for watcher in watchers:
            notifications.watch(watcher, WatchTarget.THREAD, thread.id)
        server.stop()
        sweeper.ensure_running()
        started, replies = time.monotonic(), 0
        while time.monotonic() - started < args.outage:
            threads.add_reply(replier, thread, f"reply {replies} during the outage")
            replies += 1
            time.sleep(max(0.0, started + replies * args.every - time.monotonic()))
        server.start()
        back = time.monotonic()
        while time.monotonic() - back < 600:
            db.session.expire_all()
            if not db.session.execute(select(MailMessage.id).where(MailMessage.status == MailStatus.QUEUED)).all():
                break
            time.sleep(0.2)
        drained = time.monotonic() - back
        sweeper.stop(app)
        rows = db.session.execute(select(MailMessage)).scalars().all()
        emails = [w.email for w in watchers]
        db.session.expunge_all()
    server.stop()
    arrived = Counter((m.recipients[0], m.text.split("reply ")[1].split(" ")[0]) for m in server.received)
    expected = {(email, str(n)) for email in emails for n in range(replies)}
    attempts = [r.attempts for r in rows]
    print(f"outage {args.outage:.0f} s, a reply every {args.every:g} s to {args.watchers} watchers, retry "
          f"{args.retry:g} s doubling to {args.retry_max:g} s, sweep every {args.sweep:g} s")
    print(f"messages {len(rows)} (expected {len(expected)}); sent {sum(r.status is MailStatus.SENT for r in rows)}; "
          f"lost {len(expected - set(arrived))}; duplicates {sum(n - 1 for n in arrived.values() if n > 1)}")
    print(f"attempts per message: median {statistics.median(attempts):g}, max {max(attempts)}; "
          f"backlog drained {drained:.1f} s after the server came back")


if __name__ == "__main__":
    main()
