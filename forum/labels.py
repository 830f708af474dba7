"""The words shown for stored values (statuses, kinds, roles…), translated when the page is rendered.

Templates call ``label(value)`` with an enum's ``.value``; an unknown value is shown as it is stored, with
underscores as spaces, so a new enum member degrades to readable English rather than an error.
"""
from __future__ import annotations

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

LABELS = {
    # thread status and kind, visibility
    "open": _l("Open"), "answered": _l("Answered"), "resolved": _l("Resolved"), "needs_staff": _l("Needs staff"),
    "question": _l("Question"), "discussion": _l("Discussion"), "announcement": _l("Announcement"),
    "public": _l("Public"), "internal": _l("Internal"), "org_private": _l("Private"),
    "ideas": _l("Ideas"),
    # organisations and roles
    "vendor": _l("Vendor"), "customer": _l("Customer"), "partner": _l("Partner"), "employee": _l("Employee"),
    "vendors": _l("Vendors"), "customers": _l("Customers"), "partners": _l("Partners"),
    # the flags only employees may have, as a sentence names them ("can be implementation lead or admin")
    "implementation_lead": _l("implementation lead"), "moderator": _l("moderator"), "admin": _l("administrator"),
    # deployments
    "cloud": _l("Cloud"), "on_premises": _l("On premises"), "hybrid": _l("Hybrid"),
    "production": _l("Production"), "test": _l("Test"),
    # ideas
    "new": _l("New"), "under_review": _l("Under review"), "planned": _l("Planned"), "shipped": _l("Shipped"),
    "declined": _l("Declined"),
    # moderation
    "spam": _l("Spam"), "offensive": _l("Offensive"), "off_topic": _l("Off topic"),
    "confidential": _l("Confidential"), "duplicate": _l("Duplicate"), "other": _l("Other"),
    "dismissed": _l("Dismissed"),
    # mail
    "queued": _l("Queued"), "sent": _l("Sent"), "failed": _l("Failed"), "held": _l("Held"),
    "cancelled": _l("Cancelled"),
    # patterns and webhook deliveries
    "active": _l("Active"), "merged": _l("Merged"), "pending": _l("Pending"), "delivered": _l("Delivered"),
    "withheld": _l("Withheld"),
    # what a member watches, how mail reaches them
    "thread": _l("thread"), "space": _l("space"), "tag": _l("tag"), "pattern": _l("pattern"),
    "playbook": _l("playbook"),
    "immediate": _l("Immediately"), "digest": _l("Daily digest"), "off": _l("Off"),
}


def label(value: object) -> str:
    """The reader's word for a stored value (``"needs_staff"`` -> "Needs staff" / "Wartet auf Support")."""
    key = getattr(value, "value", value)
    found = LABELS.get(key) if isinstance(key, str) else None
    return str(found) if found is not None else str(key).replace("_", " ")


def one_of(values: list) -> str:
    """Labels joined as alternatives in the reader's language ("lead or admin", "Leitung oder Verwaltung")."""
    return format_list([label(v) for v in values], style="or", locale=get_locale() or "en")


# One sentence per kind: German cannot slot the kind into one ("dieses Thema", "diesen Bereich").
STOP_WATCHING = {
    "thread": _l("Stop watching this thread"), "space": _l("Stop watching this space"),
    "tag": _l("Stop watching this tag"), "pattern": _l("Stop watching this pattern"),
    "playbook": _l("Stop watching this playbook"),
}


def stop_watching(kind: object) -> str:
    """The unsubscribe link's words for a watched thread, space, tag, pattern or playbook."""
    found = STOP_WATCHING.get(getattr(kind, "value", kind))
    return str(found if found is not None else _l("Stop watching"))

