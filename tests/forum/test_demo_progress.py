"""`./gw demo` tells a newcomer what it is doing: each stage (install, migrate, seed, mine) is announced with its
time, and mining shows its counts even when its output is not a terminal (a log, CI, a pipe)."""
from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

from forum.cli import StageProgress

ROOT = Path(__file__).resolve().parents[2]


def test_mining_progress_without_a_terminal_prints_a_line_per_stage_with_counts():
    out = io.StringIO()
    progress = StageProgress(out)
    for done in range(0, 1001, 50):
        progress("embedding", done, 1000)
    progress("clustering", 0, 1)  # as the miner reports a one-step stage: started, then the next stage
    progress.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()  # no redrawn bar in a log
    assert re.fullmatch(r"embedding\s+1000/1000 in [\d.]+ s", lines[0]), lines
    assert re.fullmatch(r"clustering\s+in [\d.]+ s", lines[1]), lines  # one step: no "0/1" that looks unfinished
    assert len(lines) == 2


def test_gw_demo_announces_its_stages():
    script = (ROOT / "gw").read_text()
    assert subprocess.run(["bash", "-n", str(ROOT / "gw")]).returncode == 0
    demo = script[script.index("cmd_demo()"):script.index("cmd_test()")]
    for stage in ("Installing", "Migrating", "Loading the demo content", "Mining"):
        assert f'step "{stage}' in demo, stage
    # pip's own output is summarised (packages so far), not silenced.
    assert "--quiet -r" not in script
