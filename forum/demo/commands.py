"""The seed-demo command."""
from __future__ import annotations

import time

import click

from .community import seed_community
from .generate import generate
from .people import DEMO_LOGINS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from .reading import seed_reading_states
from .seed import demo_counts, seed_demo


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo content (deterministic and idempotent)."""

    started = time.monotonic()
    click.echo("Composing demo content...")
    content = generate()
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Inserting threads", show_pos=True, show_eta=False)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        result = seed_demo(content, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for kind, n in seed_reading_states().items():
        result.count(kind, n)
    for kind, n in seed_community().items():
        result.count(kind, n)
    counts = demo_counts()
    if result.nothing_added:
        click.echo("Demo content already present: nothing added.")
    else:
        added = ", ".join(f"{n} {kind}" for kind, n in result.added.items() if n)
        click.echo(f"Added {added}.")
    click.echo(
        f"Demo database: {counts['organisations']} organisations, {counts['users']} users, "
        f"{counts['deployments']} deployments, {counts['threads']} threads, {counts['replies']} replies "
        f"({time.monotonic() - started:.1f} s).")
    if not result.nothing_added:
        logins = ", ".join(email for email, _ in DEMO_LOGINS)
        click.echo(f"Demo logins ({DEMO_PASSWORD}): {logins}")
        click.echo(f"Staff logins also ask for a code from an authenticator app holding the key {DEMO_TOTP_SECRET}.")
