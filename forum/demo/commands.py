"""The seed-demo command."""
from __future__ import annotations

import click


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo content (deterministic and idempotent)."""
    raise click.ClickException("seed-demo is not available yet")
