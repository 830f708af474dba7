"""Reading and validating import lines: one JSON object per line, turned into a checked ``ThreadRecord``.

Everything here is pure (no database): the importer validates the whole file with it before writing.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..models import Environment, Hosting, OrgKind, ThreadKind, ThreadStatus, Visibility
from ..services.board.threads import ValidationFailed, normalise_tags

MAX_REPLIES = 1000
EXTERNAL_ID_MAX = 120
DERIVED_ID_PREFIX = "sha256:"

# Deployment fields: name -> longest value (the Deployment columns' lengths).
DEPLOYMENT_TEXT_FIELDS = {"deployment": 80, "product": 80, "version": 40, "edition": 40, "database": 60,
                          "operating_system": 60, "topology": 60}
THREAD_FIELDS = {"title", "body", "replies", "organisation", "organisation_kind", "author", "space",
                 "created_at", "visibility", "kind", "tags", "status", "external_id", "hosting", "environment",
                 "integrations", "go_live", "size_users", *DEPLOYMENT_TEXT_FIELDS}
REPLY_FIELDS = {"author", "body", "accepted", "created_at", "organisation"}
_HOSTING_ALIASES = {"on-premises": "on_premises", "on premises": "on_premises", "on-prem": "on_premises",
                    "onprem": "on_premises", "on_prem": "on_premises", "saas": "cloud"}


@dataclass(frozen=True)
class Limits:
    """Lengths from the app's configuration."""

    title_max: int = 200
    post_max: int = 50_000


@dataclass
class ReplyRecord:
    body: str
    author: str | None
    organisation: str | None
    created_at: datetime | None  # filled with the thread's date when the line gives none
    accepted: bool


@dataclass
class ThreadRecord:
    """One validated line, with the derived values the importer writes as they are."""

    lineno: int
    external_id: str
    title: str
    body: str
    organisation: str | None
    organisation_kind: OrgKind
    author: str | None
    space: str | None
    created_at: datetime
    visibility: Visibility | None  # None: the space's default visibility
    kind: ThreadKind
    tags: list[str]
    status: ThreadStatus
    replies: list[ReplyRecord]
    accepted_index: int | None
    deployment: dict[str, Any] | None  # the snapshot fields given on the line, or None
    last_activity_at: datetime = field(init=False)
    resolved_at: datetime | None = field(init=False)

    def __post_init__(self) -> None:
        self.last_activity_at = max([self.created_at] + [r.created_at for r in self.replies])
        accepted = self.replies[self.accepted_index] if self.accepted_index is not None else None
        self.resolved_at = accepted.created_at if accepted else None


class LineInvalid(Exception):
    """A line that cannot be imported; ``reasons`` says why (all problems found, not only the first)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# --- validating ------------------------------------------------------------------------------------

def derived_external_id(obj: dict) -> str:
    """A stable id for a line without ``external_id``: the hash of its content (key order and spacing ignored)."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DERIVED_ID_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


def parse_line(text: str, lineno: int, limits: Limits, now: datetime) -> ThreadRecord:
    """Parse and check one line; raise ``LineInvalid`` with every reason found."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineInvalid([f"invalid JSON: {exc.msg} (column {exc.colno})"]) from None
    except RecursionError:
        raise LineInvalid(["invalid JSON: nested too deeply"]) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise LineInvalid([f"invalid JSON: {str(exc)[:80]}"]) from None
    if not isinstance(obj, dict):
        raise LineInvalid([f"expected a JSON object, got {_type_name(obj)}"])
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(obj):
        # Such text cannot be stored as UTF-8: refuse it here rather than fail half-way through a batch.
        raise LineInvalid(["contains a lone UTF-16 surrogate escape (\\ud800-\\udfff)"])
    return _Checker(obj, limits, now).record(lineno)


def unknown_fields(obj_text: str) -> list[str]:
    """Top-level keys the importer ignores (reported once as a summary, not as errors)."""
    try:
        obj = json.loads(obj_text)
    except (ValueError, RecursionError):
        return []
    return sorted(k for k in obj if k not in THREAD_FIELDS) if isinstance(obj, dict) else []


class _Checker:
    def __init__(self, obj: dict, limits: Limits, now: datetime) -> None:
        self.obj, self.limits, self.now, self.reasons = obj, limits, now, []

    def fail(self, reason: str) -> None:
        self.reasons.append(reason)

    def text(self, obj: dict, name: str, max_length: int, *, required: bool = False, where: str = "",
             strip: bool = True) -> str | None:
        value = obj.get(name)
        label = f"{where}{name}"
        if value is None:
            if required:
                self.fail(f"{label} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(f"{label} must be a string, not {_type_name(value)}")
            return None
        value = str(value).strip() if strip else str(value)
        if "\x00" in value:
            self.fail(f"{label} contains a NUL character")
            return None
        if required and not value.strip():
            self.fail(f"{label} is empty")
            return None
        if len(value) > max_length:
            self.fail(f"{label} is {len(value)} characters long (at most {max_length})")
            return None
        return value or None if strip else value

    def choice(self, obj: dict, name: str, enum_cls, aliases: dict[str, str] | None = None):
        value = obj.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.fail(f"{name} must be a string, not {_type_name(value)}")
            return None
        key = value.strip().lower()
        key = (aliases or {}).get(key, key)
        try:
            return enum_cls(key)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            self.fail(f"{name} {value[:40]!r} is not one of: {allowed}")
            return None

    def moment(self, obj: dict, name: str, where: str = "") -> datetime | None:
        value = obj.get(name)
        if value is None:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            self.fail(f"{where}{name} {str(value)[:40]!r} is not an ISO 8601 date or date-time")
        elif parsed > self.now + timedelta(days=1):
            self.fail(f"{where}{name} {value!r} is in the future")
            return None
        return parsed

    def record(self, lineno: int) -> ThreadRecord:
        obj, limits = self.obj, self.limits
        title = self.text(obj, "title", limits.title_max, required=True)
        body = self.text(obj, "body", limits.post_max, strip=False) or ""
        external_id = self.text(obj, "external_id", EXTERNAL_ID_MAX)
        organisation = self.text(obj, "organisation", 120)
        author = self.text(obj, "author", 254)
        space = self.text(obj, "space", 80)
        created_at = self.moment(obj, "created_at")
        org_kind = self.choice(obj, "organisation_kind", OrgKind) or OrgKind.CUSTOMER
        visibility = self.choice(obj, "visibility", Visibility, {"org-private": "org_private",
                                                                  "private": "org_private"})
        kind = self.choice(obj, "kind", ThreadKind) or ThreadKind.QUESTION
        status = self.choice(obj, "status", ThreadStatus, {"needs-staff": "needs_staff"})
        tags = self.tags(obj.get("tags"))
        replies, accepted = self.replies(obj.get("replies"), created_at)
        if created_at is None:  # undated thread: as old as its first dated reply, else imported now
            created_at = min([r.created_at for r in replies if r.created_at] or [self.now])
        for reply in replies:
            reply.created_at = reply.created_at or created_at
        deployment = self.deployment(obj)
        status = self.settle_status(status, replies, accepted)
        if self.reasons:
            raise LineInvalid(self.reasons)
        return ThreadRecord(
            lineno=lineno, external_id=external_id or derived_external_id(obj), title=title or "", body=body,
            organisation=organisation, organisation_kind=org_kind, author=author, space=space,
            created_at=created_at, visibility=visibility, kind=kind, tags=tags, status=status, replies=replies,
            accepted_index=accepted, deployment=deployment)

    def tags(self, value) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, (str, list)) or (isinstance(value, list)
                                                  and not all(isinstance(t, str) for t in value)):
            self.fail("tags must be a list of strings or a comma-separated string")
            return []
        try:
            return normalise_tags(value)
        except ValidationFailed as exc:
            self.fail(f"tags: {exc.message}")
            return []

    def replies(self, value, thread_created: datetime | None) -> tuple[list[ReplyRecord], int | None]:
        if value is None:
            return [], None
        if not isinstance(value, list):
            self.fail(f"replies must be a list, not {_type_name(value)}")
            return [], None
        if len(value) > MAX_REPLIES:
            self.fail(f"{len(value)} replies (at most {MAX_REPLIES})")
            return [], None
        out, accepted = [], []
        for i, item in enumerate(value, start=1):
            where = f"replies[{i}]."
            if not isinstance(item, dict):
                self.fail(f"replies[{i}] must be an object, not {_type_name(item)}")
                continue
            body = self.text(item, "body", self.limits.post_max, required=True, where=where, strip=False)
            author = self.text(item, "author", 254, where=where)
            organisation = self.text(item, "organisation", 120, where=where)
            created = self.moment(item, "created_at", where=where)
            if created and thread_created and created < thread_created:
                self.fail(f"{where}created_at is before the thread's created_at")
            flag = item.get("accepted", False)
            if not isinstance(flag, bool):
                self.fail(f"{where}accepted must be true or false")
            elif flag:
                accepted.append(i)
            out.append(ReplyRecord(body=body or "", author=author, organisation=organisation, created_at=created,
                                   accepted=bool(flag is True)))
        if len(accepted) > 1:
            self.fail(f"more than one accepted reply (replies {', '.join(map(str, accepted))})")
        return out, (accepted[0] - 1 if len(accepted) == 1 else None)

    def settle_status(self, given: ThreadStatus | None, replies: list, accepted: int | None) -> ThreadStatus:
        """As the board's workflow would have it: an accepted reply resolves; otherwise answered or open."""
        if accepted is not None:
            return ThreadStatus.RESOLVED
        if given is ThreadStatus.RESOLVED:
            self.fail("status is resolved but no reply is accepted")
        if given is ThreadStatus.NEEDS_STAFF:
            return given
        return ThreadStatus.ANSWERED if replies else ThreadStatus.OPEN

    def deployment(self, obj: dict) -> dict[str, Any] | None:
        values: dict[str, Any] = {name: self.text(obj, name, length) for name, length in DEPLOYMENT_TEXT_FIELDS.items()}
        hosting = self.choice(obj, "hosting", Hosting, _HOSTING_ALIASES)
        environment = self.choice(obj, "environment", Environment, {"prod": "production", "staging": "test"})
        integrations = obj.get("integrations")
        if isinstance(integrations, str):
            integrations = [part.strip() for part in integrations.split(",") if part.strip()]
        if integrations is not None and (not isinstance(integrations, list) or not all(
                isinstance(i, str) and len(i) <= 60 and "\x00" not in i for i in integrations) or len(integrations) > 20):
            self.fail("integrations must be a list of at most 20 short strings")
            integrations = None
        go_live = obj.get("go_live")
        if go_live is not None:
            parsed = parse_datetime(go_live)
            if parsed is None:
                self.fail(f"go_live {str(go_live)[:40]!r} is not an ISO 8601 date")
            go_live = parsed.date().isoformat() if parsed else None
        size = obj.get("size_users")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 10**9):
            self.fail("size_users must be a whole number")
            size = None
        given = [v for v in (*values.values(), hosting, environment, integrations, go_live, size) if v]
        if not given:
            return None
        return {"deployment_id": None, "name": values["deployment"] or "", "product": values["product"] or "",
                "version": values["version"] or "", "edition": values["edition"] or "",
                "hosting": hosting.value if hosting else "", "database": values["database"] or "",
                "operating_system": values["operating_system"] or "", "topology": values["topology"] or "",
                "integrations": integrations or [], "environment": environment.value if environment else "",
                "go_live": go_live, "size_users": size}


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 date or date-time to naive UTC (offsets converted; no offset means UTC), else None."""
    if not isinstance(value, str) or not 8 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
        except ValueError:
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
