"""Thin click commands that call services."""
from __future__ import annotations

import sys
import time

import click
from flask import Flask

from .demo.commands import seed_demo_command
from .importing.commands import import_threads_command, patterns_group
from .services.patterns.leases import RunAlreadyActive, carry_out, create_run


class StageProgress:
    """Mining progress with counts and rate: a redrawn bar on a terminal, else one line per finished stage
    (a log or a pipe would otherwise show nothing until the run ends)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.stage, self.started, self.first_done = None, 0.0, 0
        self.done, self.total = 0, 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self._end_stage()
            self.stage, self.started, self.first_done = stage, time.monotonic(), done
        self.done, self.total = done, total
        if not self.live:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (done - self.first_done) / elapsed
        width = 30
        filled = int(width * done / total) if total else width
        self.stream.write(f"\r{stage:<11} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
                          f"  {rate:,.0f}/s   ")
        self.stream.flush()

    def _end_stage(self) -> None:
        if self.stage is None:
            return
        if self.live:
            self.stream.write("\n")
        else:
            # Counts for the stages that count things (threads embedded); a one-step stage just its time.
            counts = f" {self.done}/{self.total}" if self.total > 1 else ""
            self.stream.write(f"{self.stage:<11}{counts} in {time.monotonic() - self.started:.1f} s\n")
        self.stream.flush()
        self.stage = None

    def close(self) -> None:
        self._end_stage()


@click.command("mine")
@click.option("--patterns", "n_patterns", type=click.IntRange(min=2), default=None,
              help="Force the number of patterns (default: found from the data).")
def mine_command(n_patterns: int | None) -> None:
    """Mine the forum for recurring patterns (incremental; Ctrl-C or a crash stops it, the next run resumes)."""
    try:
        run = create_run(None, "cli", {"n_patterns": n_patterns} if n_patterns else None)
    except RunAlreadyActive as exc:
        raise click.ClickException(f"{exc}; wait for it to finish") from exc
    progress = StageProgress()
    try:
        run = carry_out(run.id, stage=progress)
    except KeyboardInterrupt:
        progress.close()
        raise click.ClickException("interrupted: embeddings done so far are kept; run it again to resume") from None
    except Exception as exc:
        progress.close()
        raise click.ClickException(f"mining failed: {exc}") from exc
    progress.close()
    if run is None:
        raise click.ClickException("the run was given up before it started; run it again")
    noise = f"{run.noise_fraction:.0%}" if run.noise_fraction is not None else "n/a"
    click.echo(f"Mining run {run.id}: {run.documents} threads ({run.embedded} newly embedded), "
               f"{run.patterns_found} patterns, {noise} unassigned, {run.duration_seconds:.1f}s.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(import_threads_command)
    app.cli.add_command(patterns_group)
    app.cli.add_command(mine_command)
