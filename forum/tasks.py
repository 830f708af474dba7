"""Background tasks; the same functions run in a worker (Celery) or a server thread (embedded default)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="groundwork.mine")
def mine_task(run_id: int) -> None:
    from .services.mining_runs import execute_run

    execute_run(run_id)


@shared_task(name="groundwork.assign_thread")
def assign_thread_task(thread_id: int) -> None:
    from .services.mining_runs import assign_thread

    assign_thread(thread_id)


@shared_task(name="groundwork.pattern_figures")
def pattern_figures_task(filters: dict, requested_at: str) -> None:
    from datetime import datetime

    from .services.pattern_snapshots import compute_requested
    from .services.patterns import PatternFilters

    compute_requested(PatternFilters.from_dict(filters), datetime.fromisoformat(requested_at))
