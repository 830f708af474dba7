"""Thin click commands that call services."""
from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from .demo.commands import seed_demo_command
    from .importing.commands import import_threads_command, patterns_group

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(import_threads_command)
    app.cli.add_command(patterns_group)
