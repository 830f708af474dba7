"""Background tasks; the same functions run in a worker (Celery) or a server thread (embedded default)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="groundwork.mine")
def mine_task(run_id: int) -> None:
    from .services.patterns.runs import execute_run

    execute_run(run_id)


@shared_task(name="groundwork.assign_thread")
def assign_thread_task(thread_id: int) -> None:
    from .services.patterns.runs import assign_thread

    assign_thread(thread_id)


@shared_task(name="groundwork.pattern_figures")
def pattern_figures_task(filters: dict, requested_at: str, pattern_id: int | None = None) -> None:
    """The list's figures for ``filters``, or with ``pattern_id`` that pattern's page figures and the map."""
    from datetime import datetime

    if pattern_id is not None:
        from .services.patterns.pages import compute_requested as compute_page

        compute_page(pattern_id, datetime.fromisoformat(requested_at))
        return

    from .services.patterns.snapshots import compute_requested
    from .services.patterns.summaries import PatternFilters

    compute_requested(PatternFilters.from_dict(filters), datetime.fromisoformat(requested_at))
