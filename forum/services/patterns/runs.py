"""Mining runs: embed what changed, cluster, and keep pattern identities and curation across runs."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from flask import current_app
from sqlalchemy import delete, select, text

from ...extensions import db
from ...models import (
    MembershipSource,
    MiningRun,
    Notification,
    NotificationKind,
    Pattern,
    PatternMember,
    PatternStatus,
    Playbook,
    RunStatus,
    Thread,
    ThreadKind,
    utcnow,
)
from ..community import notifications, routing
from ..vectors.embeddings import (
    embedder_key,
    ensure_embeddings,
    ensure_embeddings_with_details,
    get_embedder,
    gives_detail,
    missing_items,
    texts_for,
    thread_documents,
    vector_of,
)
from ..webhooks import events as webhook_events
from . import chunks
from .snapshots import refresh_default
from .summaries import summarise

StageCallback = Callable[[str, int, int], None]

#: Memberships a re-run replaces; curated ones (filed in or out) survive it.
MACHINE_SOURCES = (MembershipSource.MINED, MembershipSource.ASSIGNED)


def make_miner(parameters: dict, embedder=None, n_documents: int = 0):
    from mining.pipeline import PatternMiner  # scikit-learn and the embedding stack: loaded by a run only
    from mining.sampled import SampledPatternMiner  # the same stack, and the vector index: a run only

    # how alike one problem's threads are depends on the encoder that embedded them
    miner = PatternMiner(n_patterns=parameters.get("n_patterns"),
                         same_problem_similarity=getattr(embedder, "same_problem_similarity", None),
                         random_state=parameters.get("random_state", 0), show_progress=False)
    # past MINING_SAMPLE_SIZE threads, patterns are learned from a sample and the rest placed in them
    sample_size = int(current_app.config.get("MINING_SAMPLE_SIZE", 50_000))
    if n_documents > sample_size:
        return SampledPatternMiner(miner, sample_size=sample_size, random_state=parameters.get("random_state", 0))
    return miner


def execute_run(run_id: int, *, embedder=None, stage: StageCallback | None = None) -> MiningRun:
    """Carry out a run recorded and claimed by ``leases``. Ctrl-C marks it interrupted; the next run resumes.

    Runs are started only by ``leases.create_run`` and carried out by ``leases.carry_out``, which holds the
    lease while this works.
    """
    run = db.session.get(MiningRun, run_id)
    embedder = embedder or get_embedder()
    run.status, run.started_at, run.model_name = RunStatus.RUNNING, utcnow(), embedder_key(embedder)
    db.session.commit()

    def report(name: str, done: int, total: int) -> None:
        run.stage, run.progress_done, run.progress_total = name, done, total
        db.session.commit()
        if stage:
            stage(name, done, total)

    try:
        _mine(run, embedder, report)
    except KeyboardInterrupt:
        db.session.rollback()
        _finish(run, RunStatus.INTERRUPTED, "interrupted; the next run resumes from the stored embeddings")
        raise
    except Exception as exc:  # a failed run is recorded, then the error goes on to the caller
        db.session.rollback()
        current_app.logger.exception("mining run %s failed", run_id)
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    return run


def _finish(run: MiningRun, status: RunStatus, error: str = "") -> None:
    run = db.session.get(MiningRun, run.id)
    run.status, run.finished_at, run.error = status, utcnow(), error
    db.session.commit()


def _mine(run: MiningRun, embedder, report) -> None:
    documents = [d for d in thread_documents() if d is not None]
    kinds = dict(db.session.execute(select(Thread.id, Thread.kind)).all())
    documents = [d for d in documents if kinds.get(d.id) is not ThreadKind.ANNOUNCEMENT]
    run.documents = len(documents)
    items = texts_for(documents)
    if hasattr(embedder, "fit") and getattr(embedder, "_vectorizer", True) is None:
        embedder.fit([item.text for item in items])  # the TF-IDF fallback learns its vocabulary once
    # The texts still to embed go out in chunks (to workers with a broker, and to this process); then all are read.
    # A thread stored before the embedder gave details is embedded once more, by the chunks like a new one.
    missing = missing_items(items, embedder_key(embedder), with_detail=gives_detail(embedder))
    report("embedding", 0, len(missing))
    # In order of length: the model pads a batch to its longest text and sorts by length only within one call,
    # so chunks of mixed lengths would pad far more than one call over every text (bench/README.md).
    by_length = sorted(missing, key=lambda item: (len(item.text), item.thread_id))
    chunks.embed_run(run.id, [item.thread_id for item in by_length], embedder,
                     progress=lambda d, t: report("embedding", d, t))
    stored = ensure_embeddings_with_details(items, embedder)
    vectors, details = stored.vectors, stored.details
    run.embedded = len(missing)
    if len(documents) < 10:
        run.patterns_found, run.noise_fraction = 0, 1.0
        _finish(run, RunStatus.FINISHED)
        return

    report("clustering", 0, 1)
    index_of = {doc.id: i for i, doc in enumerate(documents)}
    seeds = _curated_seeds(index_of)
    miner = make_miner(run.parameters or {}, embedder, n_documents=len(documents))
    # The word-level details sharpen the patterns where the embedder gives them for every thread; the
    # patterns' centroids stay in the vectors' space, so assignment between runs and the threshold need none.
    miner.fit(documents, seeds=seeds or None, embeddings=vectors, details=details)
    report("saving", 0, 1)
    _store_patterns(run, documents, vectors, miner)
    labels = np.asarray(miner.labels_)
    run.patterns_found = len(miner.patterns_)
    run.noise_fraction = float(np.mean(labels < 0)) if len(labels) else None
    cohesions = [p.cohesion for p in miner.patterns_ if p.cohesion is not None]
    run.mean_cohesion = float(np.mean(cohesions)) if cohesions else None
    run.quality = {"noise_fraction": run.noise_fraction, "mean_cohesion": run.mean_cohesion,
                   "assign_threshold": _assign_threshold(vectors, labels, miner)}
    report("done", 1, 1)
    _finish(run, RunStatus.FINISHED)
    _analyse_memberships(run.id)
    announce_emerging_patterns()
    _refresh_page_figures(run.id)


def _analyse_memberships(run_id: int) -> None:
    """Fresh planner statistics for the memberships a run replaced (SQLite never gathers them by itself).

    Without them the patterns page's figures may join every membership to its thread before looking at a
    filter, instead of starting from the threads the filter's index finds.
    """
    try:
        with db.engine.begin() as conn:
            for table in ("pattern_member", "pattern"):
                conn.execute(text(f"ANALYZE {table}"))
    except Exception:  # the run itself succeeded; the figures are only slower until the next analysis
        current_app.logger.exception("analysing the pattern tables after run %s failed", run_id)


def _refresh_page_figures(run_id: int) -> None:
    """Store the patterns page's new figures now, so the first view after a run does not compute them."""
    try:
        refresh_default()
    except Exception:  # the run itself succeeded; the page computes its figures on the next view instead
        current_app.logger.exception("storing the patterns page figures after run %s failed", run_id)


def announce_emerging_patterns() -> int:
    """Tell leads about patterns that started emerging, once per emerging window; returns how many."""
    window = timedelta(days=int(current_app.config.get("PATTERN_EMERGING_DAYS", 14)))
    announced = 0
    for summary in summarise():
        if not summary.emerging:
            continue
        told = db.session.execute(select(Notification.id).where(
            Notification.kind == NotificationKind.PATTERN_EMERGING, Notification.pattern_id == summary.pattern.id,
            Notification.created_at >= utcnow() - window).limit(1)).first()
        if told is None:
            pattern = db.session.get(Pattern, summary.pattern.id)
            notifications.safely(notifications.pattern_emerging, pattern)
            webhook_events.emit_safely("pattern.emerging", pattern)
            announced += 1
    return announced


def _curated_seeds(index_of: dict[int, int]) -> dict[int, list[int]]:
    """Threads leads filed into live patterns guide the next run (semi-supervised)."""
    rows = db.session.execute(
        select(PatternMember.pattern_id, PatternMember.thread_id).join(Pattern)
        .where(PatternMember.source == MembershipSource.FILED, Pattern.status == PatternStatus.ACTIVE)).all()
    seeds: dict[int, list[int]] = defaultdict(list)
    for pattern_id, thread_id in rows:
        if thread_id in index_of:
            seeds[pattern_id].append(index_of[thread_id])
    return dict(seeds)


def _assign_threshold(vectors: np.ndarray, labels: np.ndarray, miner) -> float:
    """Similarity a new thread needs to its nearest centroid to join that pattern between runs."""
    sims = []
    for pattern in miner.patterns_:
        members = np.asarray(pattern.members, dtype=np.int64)
        if len(members):
            sims.append(vectors[members] @ np.asarray(pattern.centroid, dtype=np.float32))
    if not sims:
        return 1.0
    # Nearly every member sits at least this close to its own centroid; a thread further from every
    # centroid than that is an outsider, left for the next full run to judge.
    return float(np.percentile(np.concatenate(sims), 2))


def _store_patterns(run: MiningRun, documents, vectors: np.ndarray, miner) -> None:
    from mining.clustering import match  # scikit-learn: loaded by a run only

    thread_ids = np.array([d.id for d in documents])
    new_groups = miner.pattern_members()

    patterns = db.session.execute(
        select(Pattern).where(Pattern.status.in_([PatternStatus.ACTIVE, PatternStatus.DISMISSED]))).scalars().all()
    members = db.session.execute(select(PatternMember)).scalars().all()
    previous: dict[int, set[int]] = {p.id: set() for p in patterns}
    excluded: set[tuple[int, int]] = set()
    filed_elsewhere: dict[int, int] = {}
    for m in members:
        if m.source is MembershipSource.EXCLUDED:
            excluded.add((m.pattern_id, m.thread_id))
            continue
        if m.pattern_id in previous:
            previous[m.pattern_id].add(m.thread_id)
        if m.source is MembershipSource.FILED:
            filed_elsewhere[m.thread_id] = m.pattern_id

    mapping = match(previous, new_groups)
    by_new = {new: old for old, new in mapping.items()}
    pattern_by_id = {p.id: p for p in patterns}
    db.session.execute(delete(PatternMember).where(PatternMember.source.in_(MACHINE_SOURCES)))

    for mined in miner.patterns_:
        pattern = pattern_by_id.get(by_new.get(mined.id))
        if pattern is None:
            pattern = Pattern(name=mined.name, first_run_id=run.id)
            db.session.add(pattern)
            db.session.flush()
        if not pattern.name_curated:
            pattern.name = mined.name[:200]
        pattern.keywords = list(mined.keywords)
        pattern.signatures = list(mined.signatures)
        pattern.theme = miner.themes_[mined.theme].name[:120] if mined.theme >= 0 else None
        pattern.pair_similarity = mined.pair_similarity
        pattern.cohesion = float(mined.cohesion) if mined.cohesion is not None else None
        pattern.centroid = np.asarray(mined.centroid, dtype="<f4").tobytes()
        pattern.last_run_id = run.id
        representatives = {int(thread_ids[i]) for i in mined.representative}
        centroid = np.asarray(mined.centroid, dtype=np.float32)
        for index in mined.members:
            thread_id = int(thread_ids[index])
            # Curation wins: a thread a lead filed somewhere (here included) keeps that membership.
            if thread_id in filed_elsewhere or (pattern.id, thread_id) in excluded:
                continue
            db.session.add(PatternMember(
                pattern_id=pattern.id, thread_id=thread_id, source=MembershipSource.MINED, run_id=run.id,
                similarity=float(vectors[index] @ centroid), is_representative=thread_id in representatives))

    stored_for = {mined.id: pattern_by_id.get(by_new.get(mined.id)) for mined in miner.patterns_}
    _retire_unmatched(set(mapping), patterns, previous, new_groups, stored_for)
    db.session.commit()


def _retire_unmatched(matched: set[int], patterns: list[Pattern], previous: dict[int, set[int]],
                      new_groups: dict[int, set], stored_for: dict[int, Pattern | None]) -> None:
    """Unmatched patterns that nobody curated are retired, never deleted, so their pages keep working.

    One whose threads went mostly to one pattern of this run (two joined into one, or one cut in
    two) now points there, and its page redirects with a note; one whose threads were left
    unassigned is dismissed. Curated ones stay with their filed threads.
    """
    with_playbook = set(db.session.execute(select(Playbook.pattern_id).where(Playbook.pattern_id.isnot(None)))
                        .scalars())
    curated = set(db.session.execute(select(PatternMember.pattern_id).where(
        PatternMember.source.in_([MembershipSource.FILED, MembershipSource.EXCLUDED]))).scalars())
    for pattern in patterns:
        if pattern.id in matched or pattern.status is not PatternStatus.ACTIVE or pattern.name_curated \
                or pattern.id in curated or pattern.id in with_playbook:
            continue
        old_members = previous.get(pattern.id, set())
        overlap = {new: len(old_members & set(group)) for new, group in new_groups.items()}
        best = max(overlap, key=overlap.get, default=None)
        successor = stored_for.get(best) if best is not None and overlap[best] > 0 else None
        if successor is not None and successor.id != pattern.id:
            pattern.status, pattern.merged_into_id = PatternStatus.MERGED, successor.id
        else:
            pattern.status = PatternStatus.DISMISSED


def latest_finished_run() -> MiningRun | None:
    return db.session.execute(select(MiningRun).where(MiningRun.status == RunStatus.FINISHED)
                              .order_by(MiningRun.id.desc())).scalars().first()


def assign_thread(thread_id: int, *, embedder=None) -> PatternMember | None:
    """Embed one new or edited thread and file it under the nearest pattern, if it is close enough."""
    run = latest_finished_run()
    if run is None:
        return None
    embedder = embedder or get_embedder()
    documents = thread_documents([thread_id])
    if not documents:
        return None
    vectors, _ = ensure_embeddings(texts_for(documents), embedder)
    vector = vectors[0]
    curated = db.session.execute(select(PatternMember).where(
        PatternMember.thread_id == thread_id,
        PatternMember.source.in_([MembershipSource.FILED, MembershipSource.MINED]))).scalars().first()
    if curated is not None:
        return curated
    excluded = set(db.session.execute(select(PatternMember.pattern_id).where(
        PatternMember.thread_id == thread_id, PatternMember.source == MembershipSource.EXCLUDED)).scalars())
    candidates = db.session.execute(select(Pattern).where(
        Pattern.status == PatternStatus.ACTIVE, Pattern.centroid.isnot(None))).scalars().all()
    best, best_sim = None, float(run.quality.get("assign_threshold", 1.0))
    for pattern in candidates:
        if pattern.id in excluded:
            continue
        sim = float(vector @ np.frombuffer(pattern.centroid, dtype="<f4"))
        if sim >= best_sim:
            best, best_sim = pattern, sim
    db.session.execute(delete(PatternMember).where(PatternMember.thread_id == thread_id,
                                                   PatternMember.source == MembershipSource.ASSIGNED))
    if best is None:
        db.session.commit()
        routing.after_embedding(thread_id)  # in no pattern, it may still be near threads someone solved
        return None
    member = PatternMember(pattern_id=best.id, thread_id=thread_id, source=MembershipSource.ASSIGNED,
                           similarity=best_sim, run_id=run.id)
    db.session.add(member)
    db.session.commit()
    routing.after_assignment(member)  # members who solved this pattern and opted in hear of it
    return member


__all__ = ["assign_thread", "execute_run", "latest_finished_run", "vector_of"]
