"""Answers that go stale with versions: which product versions an accepted answer or a playbook was confirmed on,
what that means for a reader's deployments, and the playbooks a new version asks leads to review.

An accepted answer is confirmed on the version of the asker's deployment snapshot (the answer worked there) and
on the version each "worked for us too" deployment ran when it said so (``Confirmation.product_version_id``,
frozen then). A playbook is confirmed on its own confirmations' versions and on those of its evidence threads.
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, func, select

from ...extensions import db
from ...models import (
    Confirmation,
    Deployment,
    Playbook,
    PlaybookConfirmation,
    PlaybookEvidence,
    Product,
    ProductVersion,
    Thread,
    User,
)

Pair = tuple[str, str]  # (product name, version name)


@dataclass
class Notice:
    """A reader's deployment runs ``yours``, which the answer was not confirmed on (it was on ``confirmed``)."""

    product: str
    confirmed: list[str]
    yours: str


@dataclass
class VersionNotes:
    confirmed: dict[str, list[str]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)


def _snapshot_pair(thread: Thread) -> Pair | None:
    snapshot = thread.deployment_snapshot
    if isinstance(snapshot, dict) and snapshot.get("product") and snapshot.get("version"):
        return str(snapshot["product"]), str(snapshot["version"])
    return None


def _answer_pairs(threads: list[Thread]) -> dict[int, set[Pair]]:
    """Per thread with an accepted answer: the versions it was confirmed on (one query for all of them)."""
    pairs: dict[int, set[Pair]] = defaultdict(set)
    reply_thread = {}
    for thread in threads:
        if thread.accepted_reply_id is None:
            continue
        reply_thread[thread.accepted_reply_id] = thread.id
        if (pair := _snapshot_pair(thread)) is not None:
            pairs[thread.id].add(pair)
    if reply_thread:
        for reply_id, product, version in db.session.execute(
                select(Confirmation.reply_id, Product.name, ProductVersion.name)
                .join(ProductVersion, ProductVersion.id == Confirmation.product_version_id)
                .join(Product, Product.id == ProductVersion.product_id)
                .where(Confirmation.reply_id.in_(list(reply_thread)))):
            pairs[reply_thread[reply_id]].add((product, version))
    return pairs


def answer_confirmations(thread: Thread) -> list[tuple[int, str | None, str | None]]:
    """The accepted answer's confirmations as (deployment id, product, version), the version the deployment ran
    when it confirmed (None when unknown); empty without an accepted answer."""
    if thread.accepted_reply_id is None:
        return []
    return [(deployment_id, product, version) for deployment_id, product, version in db.session.execute(
        _confirmations_query(), {"reply_id": thread.accepted_reply_id})]


@functools.cache
def _confirmations_query() -> Select:
    # built once per process: every thread page with an accepted answer asks it
    return (select(Confirmation.deployment_id, Product.name, ProductVersion.name)
            .outerjoin(ProductVersion, ProductVersion.id == Confirmation.product_version_id)
            .outerjoin(Product, Product.id == ProductVersion.product_id)
            .where(Confirmation.reply_id == bindparam("reply_id")))


def answer_pairs(thread: Thread, confirmations: list[tuple[int, str | None, str | None]]) -> set[Pair]:
    """The versions the accepted answer was confirmed on: the asker's snapshot and ``answer_confirmations``."""
    if thread.accepted_reply_id is None:
        return set()
    pairs = {(product, version) for _, product, version in confirmations if product and version}
    if (pair := _snapshot_pair(thread)) is not None:
        pairs.add(pair)
    return pairs


def _playbook_pairs(playbook_ids: list[int]) -> dict[int, set[Pair]]:
    pairs: dict[int, set[Pair]] = defaultdict(set)
    if not playbook_ids:
        return pairs
    for playbook_id, product, version in db.session.execute(
            select(PlaybookConfirmation.playbook_id, Product.name, ProductVersion.name)
            .join(ProductVersion, ProductVersion.id == PlaybookConfirmation.product_version_id)
            .join(Product, Product.id == ProductVersion.product_id)
            .where(PlaybookConfirmation.playbook_id.in_(playbook_ids))):
        pairs[playbook_id].add((product, version))
    evidence = db.session.execute(select(PlaybookEvidence.playbook_id, Thread).join(
        Thread, Thread.id == PlaybookEvidence.thread_id).where(PlaybookEvidence.playbook_id.in_(playbook_ids))).all()
    answered = _answer_pairs([thread for _, thread in evidence])
    for playbook_id, thread in evidence:
        pairs[playbook_id] |= answered.get(thread.id, set())
    return pairs


def _version_key(name: str) -> tuple:
    # Version names order by their numbers ("2025.2" before "2026.1", "7.2" before "7.10").
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part)


def _ordered(pairs: set[Pair]) -> dict[str, list[str]]:
    """Product -> its versions, oldest first."""
    ordered: dict[str, list[str]] = defaultdict(list)
    for product, version in sorted(pairs, key=lambda pv: (pv[0], _version_key(pv[1]))):
        ordered[product].append(version)
    return dict(ordered)


def _reader_versions(reader: User | None) -> set[Pair]:
    if reader is None or not getattr(reader, "is_authenticated", False):
        return set()
    return set(db.session.execute(
        select(Product.name, ProductVersion.name).join(ProductVersion.product)
        .join(Deployment, Deployment.product_version_id == ProductVersion.id)
        .where(Deployment.organisation_id == reader.organisation_id)).all())


def notes_for(reader: User | None, subject: Thread | Playbook) -> VersionNotes:
    """What a page says about versions: where ``subject`` was confirmed, and the reader's versions it was not."""
    if isinstance(subject, Thread):
        pairs = _answer_pairs([subject]).get(subject.id, set())
    else:
        pairs = _playbook_pairs([subject.id]).get(subject.id, set())
    return notes_from(pairs, _reader_versions(reader) if pairs else set())


def notes_from(pairs: set[Pair], reader_pairs: set[Pair]) -> VersionNotes:
    """``notes_for`` from what is known already: the confirmed versions and those of the reader's deployments."""
    confirmed = _ordered(pairs)
    if not confirmed:
        return VersionNotes()
    notices = [Notice(product, confirmed[product], version) for product, version in sorted(reader_pairs)
               if product in confirmed and version not in confirmed[product]]
    return VersionNotes(confirmed, notices)


def newest_version() -> ProductVersion | None:
    """The version that entered the catalog last (the review list's default)."""
    return db.session.execute(select(ProductVersion).order_by(ProductVersion.id.desc()).limit(1)).scalar_one_or_none()


def review_list(version: ProductVersion, limit: int = 50) -> list[tuple[Playbook, int]]:
    """Playbooks about ``version``'s product not yet confirmed on it, most used first (confirmations and
    confirmed evidence threads), with that count."""
    product = version.product.name
    playbooks = list(db.session.execute(select(Playbook).order_by(Playbook.id)).scalars())
    ids = [p.id for p in playbooks]
    pairs = _playbook_pairs(ids)
    uses = dict(db.session.execute(select(PlaybookConfirmation.playbook_id, func.count()).where(
        PlaybookConfirmation.playbook_id.in_(ids)).group_by(PlaybookConfirmation.playbook_id)).all()) if ids else {}
    evidence = dict(db.session.execute(select(PlaybookEvidence.playbook_id, func.count()).where(
        PlaybookEvidence.playbook_id.in_(ids)).group_by(PlaybookEvidence.playbook_id)).all()) if ids else {}
    listed = []
    for playbook in playbooks:
        products = {p for p, _ in pairs.get(playbook.id, set())} | set((playbook.applies_to or {}).get("products") or [])
        if product not in products or (product, version.name) in pairs.get(playbook.id, set()):
            continue
        listed.append((playbook, uses.get(playbook.id, 0) + evidence.get(playbook.id, 0)))
    listed.sort(key=lambda item: (-item[1], item[0].title.lower()))
    return listed[:limit]
