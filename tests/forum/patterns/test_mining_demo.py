"""The real engine on the demo forum finds the planted recurring problems."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from forum.demo import PLANTED_PROBLEMS, problem_key_for
from forum.extensions import db
from forum.models import MembershipSource, Pattern, PatternMember, PatternStatus, RunStatus, Thread
from forum.services.patterns import leases

pytestmark = pytest.mark.slow


def planted_recovery() -> tuple[int, list[tuple[str, float, float]]]:
    """Match planted problems to patterns one-to-one by overlap; count those recovered (recall and purity ≥ 0.5)."""
    truth: dict[str, set[int]] = defaultdict(set)
    for thread_id, external_id in db.session.execute(db.select(Thread.id, Thread.external_id)):
        key = problem_key_for(external_id) if external_id else None
        if key:
            truth[key].add(thread_id)
    patterns: dict[int, set[int]] = defaultdict(set)
    rows = db.session.execute(db.select(PatternMember.pattern_id, PatternMember.thread_id).join(Pattern).where(
        Pattern.status == PatternStatus.ACTIVE, PatternMember.source != MembershipSource.EXCLUDED))
    for pattern_id, thread_id in rows:
        patterns[pattern_id].add(thread_id)
    problems, groups = sorted(truth), sorted(patterns)
    overlap = np.array([[len(truth[p] & patterns[g]) for g in groups] for p in problems])
    figures = []
    for i, j in zip(*linear_sum_assignment(-overlap), strict=True):
        figures.append((problems[i], overlap[i, j] / len(truth[problems[i]]), overlap[i, j] / len(patterns[groups[j]])))
    recovered = sum(1 for _, recall, purity in figures if recall >= 0.5 and purity >= 0.5)
    return recovered, figures


def test_mining_the_demo_forum_recovers_the_planted_problems(app, db_backend):
    if db_backend != "sqlite":
        pytest.skip("engine quality does not depend on the database; measured once, on SQLite")
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    run = leases.create_run(None, "test")
    run = leases.carry_out(run.id)
    assert run.status is RunStatus.FINISHED
    recovered, figures = planted_recovery()
    for key, recall, purity in figures:
        print(f"{key}: recall {recall:.2f} purity {purity:.2f}")
    print(f"recovered {recovered} of {len(PLANTED_PROBLEMS)}; {run.patterns_found} patterns, "
          f"{run.noise_fraction:.0%} unassigned")
    # the target: every planted problem is its own pattern, one-to-one, each at purity 0.9 or more
    assert len(figures) == len(PLANTED_PROBLEMS)
    assert recovered == len(PLANTED_PROBLEMS)
    assert min(purity for _, _, purity in figures) >= 0.9
