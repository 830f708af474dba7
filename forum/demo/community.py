"""Demo community content: a product-ideas space with ideas, votes and statuses, a conversation between the
demo customer and the demo employee, a picture for the demo employee, and a log and a screenshot attached to one
of the demo customer's questions (or its organisation's newest). Idempotent, part by part: each is added once."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from ..extensions import db
from ..markdown import render_markdown
from ..models import (
    Attachment,
    Conversation,
    ConversationMember,
    Idea,
    IdeaStatus,
    IdeaVote,
    Message,
    Organisation,
    OrgKind,
    Space,
    SpaceKind,
    Thread,
    User,
    Visibility,
    utcnow,
)
from ..services.attachments import avatars
from ..services.attachments import files as attachment_files
from ..services.attachments.checks import check_file
from ..services.ideas.ideas import recount

IDEAS_SLUG = "product-ideas"
# (title, body, status, staff note, how many customer organisations vote, partner and staff votes)
IDEAS = [
    ("Schedule Ledger batch exports from the admin console",
     "Today every export runs from cron on the application server. A schedule in the console would let us drop "
     "the scripts we copy from one upgrade to the next.", IdeaStatus.PLANNED,
     "Planned for Ledger 2026.3: schedules per export, with the run history on the same page.", 6, 2),
    ("Show which Bridge connector version a deployment runs",
     "Support always asks for it and it is buried in a log file.", IdeaStatus.UNDER_REVIEW,
     "We are checking how to read it without a restart.", 4, 1),
    ("Dark mode for Lens dashboards", "Our control room runs Lens on a wall screen all night.", IdeaStatus.NEW,
     "", 2, 0),
    ("Single sign-on for the installer", "The installer asks for a local admin password even where SSO is on.",
     IdeaStatus.SHIPPED, "Shipped in 2026.1: the installer signs in through the configured identity provider.",
     3, 1),
    ("Keep custom report fonts across upgrades", "Every upgrade resets the fonts of our custom reports.",
     IdeaStatus.DECLINED, "Fonts now come from the report theme; set them there and upgrades keep them.", 1, 0),
]
CONVERSATION = [
    ("customer", "Hi, could you look at our import log before Thursday's upgrade window? The nightly batch stopped "
                 "with ORA-00942 twice this week."),
    ("employee", "Of course. ORA-00942 after an upgrade is usually the reporting schema's grants: run "
                 "`ledger-admin grants --repair` on the test system first and send me the output."),
    ("customer", "Done: the repair re-created two grants and the batch runs again. Thanks!"),
]
LOG = """2026-11-30 01:00:01 INFO  batch-runner starting nightly import (batch 4711)
2026-11-30 01:00:02 INFO  connecting to ledgerdb01:1521 as LEDGER_BATCH
2026-11-30 01:00:04 INFO  reading 18,244 invoices from staging
2026-11-30 01:03:17 ERROR ORA-00942: table or view does not exist (REPORTING.INVOICE_FACTS)
2026-11-30 01:03:17 ERROR step 'load invoice facts' failed after 193 s
2026-11-30 01:03:18 WARN  retrying in 60 s (attempt 2 of 3)
2026-11-30 01:04:18 ERROR ORA-00942: table or view does not exist (REPORTING.INVOICE_FACTS)
2026-11-30 01:04:19 INFO  batch-runner finished with exit code 3
"""


def _screenshot() -> bytes:
    image = Image.new("RGB", (960, 600), (245, 247, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 960, 56), fill=(31, 58, 95))
    draw.text((24, 20), "Ledger admin console - Batch jobs", fill=(255, 255, 255))
    for row, (name, state) in enumerate([("Nightly import", "FAILED"), ("Invoice export", "OK"),
                                         ("Report refresh", "OK")]):
        y = 96 + row * 56
        draw.rectangle((24, y, 936, y + 44), outline=(200, 205, 212), fill=(255, 255, 255))
        draw.text((40, y + 16), name, fill=(20, 20, 20))
        draw.text((820, y + 16), state, fill=(190, 40, 40) if state == "FAILED" else (30, 120, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed_community() -> dict[str, int]:
    """Add the ideas space, the demo conversation and the attachments; what was added."""
    customer = db.session.execute(select(User).where(User.email == "customer@demo.test")).scalar_one_or_none()
    employee = db.session.execute(select(User).where(User.email == "employee@demo.test")).scalar_one_or_none()
    if customer is None or employee is None:
        return {}
    added = {"ideas": 0, "idea votes": 0, "messages": 0, "attachments": 0, "avatars": 0}
    now = db.session.execute(select(func.max(Thread.last_activity_at))).scalar_one() or utcnow()
    _ideas(employee, customer, now, added)
    _conversation(customer, employee, now, added)
    _attachments(customer, added)
    _avatar(employee, added)
    return {kind: n for kind, n in added.items() if n}


def _ideas(employee: User, customer: User, now, added: dict[str, int]) -> None:
    space = db.session.execute(select(Space).where(Space.slug == IDEAS_SLUG)).scalar_one_or_none()
    if space is not None and db.session.execute(select(func.count(Thread.id)).where(
            Thread.space_id == space.id)).scalar_one():
        return
    if space is None:
        last = db.session.execute(select(func.max(Space.position))).scalar() or 0
        space = Space(slug=IDEAS_SLUG, name="Product ideas", kind=SpaceKind.IDEAS, position=last + 1,
                      description="What you would like the products to do next. Vote for what your organisation "
                                  "needs; staff say what becomes of each idea.",
                      default_visibility=Visibility.PUBLIC)
        db.session.add(space)
        db.session.flush()
    customers = list(db.session.execute(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .where(Organisation.kind == OrgKind.CUSTOMER, User.is_placeholder.is_(False)).order_by(User.id)).scalars())
    by_org: dict[int, User] = {}
    for user in customers:
        by_org.setdefault(user.organisation_id, user)
    one_per_org = [customer] + [u for org_id, u in by_org.items() if org_id != customer.organisation_id]
    others = list(db.session.execute(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .where(Organisation.kind != OrgKind.CUSTOMER, User.is_placeholder.is_(False)).order_by(User.id)).scalars())
    for n, (title, body, status, note, orgs, extra) in enumerate(IDEAS):
        author = one_per_org[(n + 1) % len(one_per_org)]
        when = now - timedelta(days=20 - 3 * n)
        thread = Thread(space_id=space.id, author_id=author.id, organisation_id=author.organisation_id, title=title,
                        body_md=body, body_html=render_markdown(body), visibility=Visibility.PUBLIC,
                        created_at=when, updated_at=when, last_activity_at=when)
        db.session.add(thread)
        db.session.flush()
        idea = Idea(thread_id=thread.id, status=status, status_note=note, votes=0, customer_org_votes=0,
                    status_changed_by_id=employee.id if note else None,
                    status_changed_at=when + timedelta(days=2) if note else None)
        db.session.add(idea)
        for voter in one_per_org[:orgs] + others[:extra]:
            db.session.add(IdeaVote(thread_id=thread.id, user_id=voter.id, organisation_id=voter.organisation_id,
                                    created_at=when + timedelta(hours=1)))
            added["idea votes"] += 1
        db.session.flush()
        recount(idea)
        added["ideas"] += 1
    db.session.commit()


def _conversation(customer: User, employee: User, now, added: dict[str, int]) -> None:
    subject = "Import log before the upgrade window"
    if db.session.execute(select(Conversation.id).where(Conversation.subject == subject,
                                                        Conversation.created_by_id == customer.id)).first():
        return
    people = {"customer": customer, "employee": employee}
    start = now - timedelta(days=2)
    conversation = Conversation(subject=subject, created_by_id=customer.id,
                                created_at=start, last_message_at=start + timedelta(hours=len(CONVERSATION)))
    db.session.add(conversation)
    db.session.flush()
    db.session.add_all([ConversationMember(conversation_id=conversation.id, user_id=customer.id, joined_at=start,
                                           last_read_at=start + timedelta(hours=len(CONVERSATION))),
                        ConversationMember(conversation_id=conversation.id, user_id=employee.id, joined_at=start,
                                           last_read_at=start + timedelta(hours=1))])
    for hour, (who, text) in enumerate(CONVERSATION, start=1):
        db.session.add(Message(conversation_id=conversation.id, author_id=people[who].id, body_md=text,
                               body_html=render_markdown(text), created_at=start + timedelta(hours=hour)))
        added["messages"] += 1
    db.session.commit()


def _attachments(customer: User, added: dict[str, int]) -> None:
    # The demo customer's own question if they asked one, else their organisation's newest: the log goes on
    # as its asker attached it.
    thread = db.session.execute(
        select(Thread).where(Thread.organisation_id == customer.organisation_id, Thread.external_id.like("demo-%"))
        .order_by((Thread.author_id == customer.id).desc(), Thread.created_at.desc(), Thread.id)).scalars().first()
    if thread is not None and not db.session.execute(select(Attachment.id).where(
            Attachment.thread_id == thread.id)).first():
        files = [check_file("nightly-import.log", LOG.encode(), 1_000_000),
                 check_file("batch-jobs.png", _screenshot(), 5_000_000)]
        added["attachments"] += len(attachment_files.attach(thread.author, files, thread))


def _avatar(employee: User, added: dict[str, int]) -> None:
    """The demo employee has a picture (everyone else shows initials): both kinds are on the thread pages."""
    if employee.avatar_sha256:
        return
    image = Image.new("RGB", (256, 256), (31, 58, 95))
    draw = ImageDraw.Draw(image)
    draw.ellipse((78, 40, 178, 140), fill=(240, 200, 170))
    draw.ellipse((38, 150, 218, 330), fill=(90, 140, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    avatars.set_avatar(employee, out.getvalue())
    added["avatars"] += 1
