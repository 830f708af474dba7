"""The import service: validate the whole file, then insert it in atomic batches with Core executemany.

* **Validation first.** Every line is parsed and checked before anything is written. One bad line and
  nothing at all is imported; the report lists the bad lines (number and reason).
* **Batches.** By default the whole file is one transaction. With ``batch_size`` every N threads are
  committed together; a failure or Ctrl-C rolls back only the batch in progress, and the batches already
  committed stay (a re-run skips them). On SQLite a single transaction keeps other writers waiting until
  it ends, so importing into a forum that is in use is better done with ``--batch-size`` (e.g. 5000).
* **Re-runs skip** threads whose ``external_id`` is already in the forum. Lines without one get a stable
  id from the hash of their content (``sha256:...``), so re-running the same file adds nothing either.
* **Dry run** does all the work inside one transaction and rolls it back: the counts are exact.
* **Memory.** The file is read twice, a line at a time; only ids and names are kept across chunks.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, insert, select, update

from ..extensions import db
from ..markdown import render_markdown
from ..models import Reply, Thread, thread_tag, utcnow
from .placeholders import Resolver, _insert_returning
from .reading import count_lines, read_lines
from .records import Limits, LineInvalid, ThreadRecord, parse_line, unknown_fields

CHUNK = 1000
Progress = Callable[[str, int, int], None]


@dataclass
class LineError:
    lineno: int
    reason: str


@dataclass
class Validation:
    """What the first pass found: how many thread lines, and which lines are bad."""

    lines: int = 0
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    unknown_fields: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.lines > 0


@dataclass
class ImportResult:
    validation: Validation
    threads: int = 0
    replies: int = 0
    skipped: int = 0
    batches: int = 0
    committed: int = 0  # threads in committed batches
    created: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


class ImportRejected(Exception):
    """The file has bad lines (or none at all): nothing was imported."""

    def __init__(self, validation: Validation) -> None:
        super().__init__(f"{validation.error_count} bad line(s)" if validation.error_count else "no threads")
        self.validation = validation


class ImportInterrupted(Exception):
    """A batch failed or was interrupted after ``result.batches`` batches had been committed."""

    def __init__(self, result: ImportResult, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.result, self.cause = result, cause


def limits_from_config() -> Limits:
    return Limits(title_max=int(current_app.config["TITLE_MAX_LENGTH"]),
                  post_max=int(current_app.config["POST_MAX_LENGTH"]))


def validate_file(path: Path, *, max_errors: int = 20, progress: Progress | None = None,
                  now: datetime | None = None) -> Validation:
    """First pass: parse and check every line (no database access)."""
    limits, now = limits_from_config(), now or utcnow()
    total = _total_lines(path)
    result, seen = Validation(), {}  # external_id -> first line number
    if progress:
        progress("validating", 0, total)
    with path.open("rb") as stream:
        for n, (lineno, item) in enumerate(read_lines(stream), start=1):
            try:
                if isinstance(item, LineInvalid):
                    raise item
                record = parse_line(item, lineno, limits, now)
                first = seen.setdefault(record.external_id, lineno)
                if first != lineno:
                    what = "same content as" if record.external_id.startswith("sha256:") else "same external_id as"
                    raise LineInvalid([f"{what} line {first} ({record.external_id})"])
                result.lines += 1
                result.unknown_fields.update(unknown_fields(item))
            except LineInvalid as exc:
                result.error_count += 1
                if len(result.errors) < max_errors:
                    result.errors.append(LineError(lineno, str(exc)))
            if progress and n % CHUNK == 0:
                progress("validating", min(lineno, total), total)
    if progress:
        progress("validating", total, total)
    return result


def import_file(path: Path, *, batch_size: int | None = None, dry_run: bool = False, max_errors: int = 20,
                progress: Progress | None = None) -> ImportResult:
    """Validate ``path`` and import it (see the module docstring for batches, re-runs and dry runs)."""
    now = utcnow()
    validation = validate_file(path, max_errors=max_errors, progress=progress, now=now)
    if not validation.ok:
        raise ImportRejected(validation)
    result = ImportResult(validation=validation, dry_run=dry_run)
    writer = _Writer(Resolver(now))
    batch_size = batch_size if batch_size and not dry_run else None
    limits = limits_from_config()
    chunk: list[ThreadRecord] = []
    in_batch = done = 0
    if progress:
        progress("importing", 0, validation.lines)
    try:
        with path.open("rb") as stream:
            for lineno, text in read_lines(stream):
                if isinstance(text, LineInvalid):
                    raise RuntimeError(f"the file changed while it was imported (line {lineno})")
                chunk.append(parse_line(text, lineno, limits, now))
                in_batch += 1
                if len(chunk) >= CHUNK or (batch_size and in_batch >= batch_size):
                    done += len(chunk)
                    writer.write(chunk, result)
                    chunk = []
                    if progress:
                        progress("importing", done, validation.lines)
                if batch_size and in_batch >= batch_size:
                    db.session.commit()
                    result.batches, result.committed, in_batch = result.batches + 1, result.threads, 0
        if chunk:
            writer.write(chunk, result)
        if dry_run:
            db.session.rollback()
        elif in_batch or not result.batches:
            db.session.commit()
            result.batches, result.committed = result.batches + 1, result.threads
        if progress:
            progress("importing", validation.lines, validation.lines)
    except BaseException as exc:  # Ctrl-C included: the batch in progress must not land half-way
        db.session.rollback()
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        raise ImportInterrupted(result, exc) from exc
    result.created = dict(writer.resolver.created)
    return result


def _total_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return count_lines(stream)


class _HtmlCache:
    """Markdown rendered once per distinct text; bounded so 100k distinct bodies do not pile up."""

    def __init__(self, size: int = 20_000) -> None:
        self.size, self.items = size, OrderedDict()

    def __call__(self, text: str) -> str:
        html = self.items.get(text)
        if html is None:
            html = self.items[text] = render_markdown(text)
            if len(self.items) > self.size:
                self.items.popitem(last=False)
        return html


class _Writer:
    """Inserts one chunk of validated records: threads, replies, accepted answers, tags."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver, self.html = resolver, _HtmlCache()

    def write(self, chunk: list[ThreadRecord], result: ImportResult) -> None:
        existing = set(db.session.execute(select(Thread.external_id).where(
            Thread.external_id.in_([r.external_id for r in chunk]))).scalars())
        records = [r for r in chunk if r.external_id not in existing]
        result.skipped += len(chunk) - len(records)
        if not records:
            return
        resolver = self.resolver
        resolver.prepare(records)
        rows = []
        for r in records:
            org_id = resolver.thread_org_id(r)
            space_id, default_visibility = resolver.space(r)
            deployment_id, snapshot = resolver.snapshot(r)
            rows.append({
                "space_id": space_id, "author_id": resolver.author_id(r.author, org_id), "organisation_id": org_id,
                "title": r.title, "body_md": r.body, "body_html": self.html(r.body), "kind": r.kind,
                "visibility": r.visibility or default_visibility, "status": r.status,
                "deployment_id": deployment_id, "deployment_snapshot": snapshot, "accepted_reply_id": None,
                "reply_count": len(r.replies), "external_id": r.external_id, "created_at": r.created_at,
                "updated_at": r.created_at, "last_activity_at": r.last_activity_at, "resolved_at": r.resolved_at})
        thread_ids = _insert_returning(Thread, rows)
        reply_rows, accepted_at = [], []
        for r, thread_id in zip(records, thread_ids, strict=True):
            for i, reply in enumerate(r.replies):
                if i == r.accepted_index:
                    accepted_at.append((len(reply_rows), thread_id))
                org_id = resolver.reply_org_id(r, reply.organisation)
                reply_rows.append({
                    "thread_id": thread_id, "author_id": resolver.author_id(reply.author, org_id),
                    "body_md": reply.body, "body_html": self.html(reply.body), "is_staff_note": False, "score": 0,
                    "created_at": reply.created_at, "updated_at": reply.created_at, "deleted_at": None,
                    "deleted_by_id": None})
        reply_ids = _insert_returning(Reply, reply_rows)
        if accepted_at:
            table = Thread.__table__
            db.session.execute(update(table).where(table.c.id == bindparam("tid"))
                               .values(accepted_reply_id=bindparam("rid")),
                               [{"tid": tid, "rid": reply_ids[index]} for index, tid in accepted_at])
        tag_rows = [{"thread_id": tid, "tag_id": resolver.tags[name]}
                    for r, tid in zip(records, thread_ids, strict=True) for name in r.tags]
        if tag_rows:
            db.session.execute(insert(thread_tag), tag_rows)
        result.threads += len(records)
        result.replies += len(reply_rows)
