"""What the ask page suggests for a draft: similar visible threads and the playbook that matches best.

A playbook is matched through the threads behind it (its evidence and its pattern's members): the
draft's cosine with the closest of them and with their centroid. Only the playbook itself (visible to
the user) is returned, never anything about those threads.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import select

from ... import permissions
from ...extensions import db
from ...models import MembershipSource, PatternMember, Playbook, PlaybookEvidence, User
from ..patterns.playbooks import replication_counts
from ..vectors.similar import Neighbours, SimilarThread, similar_to_draft, tokens_of
from . import deflection

MAX_PLAYBOOKS = 500


@dataclass
class PlaybookMatch:
    playbook: Playbook
    score: float
    replications: int


@dataclass(frozen=True)
class SuggestedPlaybook:
    """Plain values (no ORM row), so recording the impressions cannot expire what is shown."""

    id: int
    title: str
    replications: int
    score: float


@dataclass
class Suggestions:
    threads: list[SimilarThread]
    playbook: SuggestedPlaybook | None
    method: str


def _backing_threads(playbooks: list[tuple[int, int | None]]) -> dict[int, set[int]]:
    """Playbook id -> ids of its evidence threads and its pattern's (not excluded) members."""
    ids = [pid for pid, _ in playbooks]
    backing: dict[int, set[int]] = defaultdict(set)
    for pid, tid in db.session.execute(select(PlaybookEvidence.playbook_id, PlaybookEvidence.thread_id)
                                       .where(PlaybookEvidence.playbook_id.in_(ids))):
        backing[pid].add(tid)
    by_pattern: dict[int, list[int]] = defaultdict(list)
    for pid, pattern_id in playbooks:
        if pattern_id is not None:
            by_pattern[pattern_id].append(pid)
    if by_pattern:
        for pattern_id, tid in db.session.execute(
                select(PatternMember.pattern_id, PatternMember.thread_id).where(
                    PatternMember.pattern_id.in_(list(by_pattern)),
                    PatternMember.source != MembershipSource.EXCLUDED)):
            for pid in by_pattern[pattern_id]:
                backing[pid].add(tid)
    return backing


def _semantic_scores(candidates, found: Neighbours) -> dict[int, float]:
    vectors, query = found.vectors, found.query
    backing = _backing_threads([(pid, pattern_id) for pid, _t, _p, pattern_id in candidates])
    # One read of every backing thread's vector (from memory, or from the database beside an index file).
    ids, matrix = vectors.vectors_of(sorted(set().union(*backing.values()))) if backing else (np.zeros(0), None)
    position = {int(tid): i for i, tid in enumerate(ids)}
    scores = matrix @ query if ids.size else np.zeros(0, np.float32)
    result = {}
    for pid, thread_ids in backing.items():
        rows = [position[tid] for tid in sorted(thread_ids) if tid in position]
        if not rows:
            continue
        centroid = matrix[rows].sum(axis=0)
        norm = float(np.linalg.norm(centroid))
        to_centroid = float(scores[rows].sum()) / norm if norm else 0.0
        result[pid] = (float(scores[rows].max()) + to_centroid) / 2
    return result


def _keyword_scores(candidates, tokens: list[str]) -> dict[int, float]:
    wanted = set(tokens)
    result = {}
    for pid, title, problem, _pattern in candidates:
        words = set(tokens_of(f"{title} {title} {problem}", 60))
        overlap = len(words & wanted)
        if overlap >= 2:
            result[pid] = overlap / float(np.sqrt(len(words) * len(wanted)))
    return result


def match_playbook(user: User | None, found: Neighbours) -> PlaybookMatch | None:
    """The visible playbook closest to the draft, when it is close enough."""
    candidates = db.session.execute(
        select(Playbook.id, Playbook.title, Playbook.problem_md, Playbook.pattern_id)
        .where(permissions.visible_playbooks(user)).order_by(Playbook.id).limit(MAX_PLAYBOOKS)).all()
    if not candidates:
        return None
    if found.query is not None and found.vectors is not None:
        scored = _semantic_scores(candidates, found)
        floor = float(current_app.config.get("SUGGEST_MIN_SCORE", 0.3))
    else:
        scored = _keyword_scores(candidates, found.tokens)
        floor = 0.2
    if not scored:
        return None
    best, score = max(scored.items(), key=lambda item: (item[1], -item[0]))
    if score < floor:
        return None
    playbook = db.session.get(Playbook, best)
    return PlaybookMatch(playbook, round(score, 4), replication_counts([best]).get(best, 0))


def suggest(user: User, title: str, body: str, draft_key: str | None = None, limit: int = 5) -> Suggestions:
    """Suggestions for a draft question; what is shown is recorded as impressions of that draft."""
    found = similar_to_draft(user, title, body, limit=limit)
    if found.method == "none" and not found.tokens:
        return Suggestions([], None, "none")
    match = match_playbook(user, found)
    threads = found.items
    playbook = (SuggestedPlaybook(match.playbook.id, match.playbook.title, match.replications, match.score)
                if match else None)
    deflection.record_impressions(user, draft_key, [t.id for t in threads], playbook.id if playbook else None)
    return Suggestions(threads, playbook, found.method)

