"""Click commands: ``import-threads FILE.jsonl`` and ``patterns export``."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .exporter import export_patterns
from .importer import ImportInterrupted, ImportRejected, import_file

MAX_SHOWN_DEFAULT = 20


class _Progress:
    """One line per stage with a bar, counts and rate; drawn only when stderr is a terminal."""

    def __init__(self) -> None:
        self.stream = sys.stderr
        self.live = self.stream.isatty()
        self.stage, self.started, self.last, self.first = "", 0.0, 0.0, 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self.stage:
            self.close()
            self.stage, self.started, self.first = stage, now, done
        if not self.live or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        rate = (done - self.first) / max(now - self.started, 1e-3)
        filled = int(30 * done / total) if total else 30
        self.stream.write(f"\r{stage:<10} [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,}  {rate:,.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.stage and self.live:
            self.stream.write("\n")
            self.stream.flush()
        self.stage = ""


FORMAT_HELP = """\b
One JSON object per line. Only "title" is required. Fields: title, body, external_id,
organisation, organisation_kind, author, space, created_at (ISO 8601), visibility
(public/internal/org_private), kind, tags, status, replies [{author, body, accepted,
created_at, organisation}], and deployment fields (product, version, edition, hosting,
database, operating_system, topology, environment, integrations, go_live, size_users).

\b
Every line is validated first; one bad line and nothing is imported. Threads already
imported (same external_id, or the same content for lines without one) are skipped.
Unknown organisations, authors and spaces are created as placeholders.
"""


@click.command("import-threads", epilog=FORMAT_HELP)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Commit every N threads (each batch whole or not at all). Default: the whole file at once.")
@click.option("--dry-run", is_flag=True, help="Validate and import inside a transaction that is rolled back.")
@click.option("--max-errors", type=click.IntRange(min=1), default=MAX_SHOWN_DEFAULT, show_default=True,
              help="How many bad lines to list.")
def import_threads_command(file: Path, batch_size: int | None, dry_run: bool, max_errors: int) -> None:
    """Import threads from a JSON Lines file (details: forum/importing/__init__.py)."""

    progress = _Progress()
    started = time.monotonic()
    try:
        result = import_file(file, batch_size=batch_size, dry_run=dry_run, max_errors=max_errors,
                             progress=progress)
    except ImportRejected as exc:
        progress.close()
        _report_rejection(exc.validation)
        sys.exit(1)
    except ImportInterrupted as exc:
        progress.close()
        done = exc.result
        kept = (f"{done.batches} batch(es) committed before it ({done.committed} threads) are kept; "
                "run the command again to import the rest" if done.batches else "nothing was imported")
        cause = "interrupted" if isinstance(exc.cause, KeyboardInterrupt) else f"failed: {exc.cause}"
        raise click.ClickException(f"import {cause}; {kept}") from None
    progress.close()
    _report_unknown(result.validation.unknown_fields)
    created = ", ".join(f"{n} {kind}" for kind, n in sorted(result.created.items())) or "nothing else"
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} {result.threads} threads and {result.replies} replies; skipped {result.skipped} already "
               f"imported; placeholders and rows created: {created} ({time.monotonic() - started:.1f} s).")
    if dry_run:
        click.echo("Dry run: nothing was changed.")


def _report_rejection(validation) -> None:  # noqa: ANN001
    if validation.error_count == 0:
        click.echo("Error: nothing to import: the file has no thread lines.", err=True)
        return
    for error in validation.errors:
        click.echo(f"line {error.lineno}: {error.reason}", err=True)
    hidden = validation.error_count - len(validation.errors)
    if hidden:
        click.echo(f"... and {hidden} more bad line(s)", err=True)
    click.echo(f"Error: {validation.error_count} bad line(s) out of {validation.lines + validation.error_count}; "
               "nothing was imported.", err=True)


def _report_unknown(counter) -> None:  # noqa: ANN001
    if counter:
        names = ", ".join(f"{name} ({n} lines)" for name, n in sorted(counter.items()))
        click.echo(f"Ignored unknown fields: {names}", err=True)


@click.group("patterns")
def patterns_group() -> None:
    """Mined patterns."""


@patterns_group.command("export")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (default: a short table).")
def export_command(as_json: bool) -> None:
    """Every active pattern with its keywords, reach and member threads."""

    patterns = export_patterns()
    if as_json:
        click.echo(json.dumps({"patterns": patterns}, indent=2))
        return
    if not patterns:
        click.echo("No active patterns.")
        return
    click.echo(f"{'id':>5}  {'threads':>7}  {'customers':>9}  {'deployments':>11}  name")
    for p in patterns:
        reach = p["reach"]
        click.echo(f"{p['id']:>5}  {reach['threads']:>7}  {reach['customer_organisations']:>9}  "
                   f"{reach['deployments']:>11}  {p['name'][:70]}")
