"""Serve the forum with gunicorn on 127.0.0.1 for browser tests: a real process, a real SQLite file.

``served_forum(tmp_path, seed_code)`` migrates a fresh database with ``flask db upgrade``, runs ``seed_code``
(Python, with ``app`` built by the factory and an app context pushed; whatever it prints last as JSON comes
back as ``seed``), starts gunicorn on a free port and yields ``(base_url, seed)``. ``extra_env`` adds settings
(``FORUM_...``) to the seeding and the server alike.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forum_env(database: Path) -> dict[str, str]:
    """The environment of a served forum: its own SQLite file, a random key, plain-HTTP cookies."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FORUM_") and k not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_READ", "SECRET_KEY")}
    env.update({
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": secrets.token_hex(32),
        "FORUM_INSECURE_COOKIES": "true",
        "FORUM_RATELIMIT_ENABLED": "false",
        "FORUM_MINING_IN_BACKGROUND": "false",
        # Seeded staff sign in by password, as in tests/conftest.py; the demo walk switches the requirement on.
        "FORUM_TWO_FACTOR_REQUIRED_FOR_STAFF": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    })
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {url} within {seconds}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def served_forum(tmp_path: Path, seed_code: str, extra_env: dict[str, str] | None = None, workers: int = 1
                 ) -> Iterator[tuple[str, object]]:
    env = {**forum_env(tmp_path / "forum.sqlite"), **(extra_env or {})}
    # the README's command with the venv's flask script (``-m flask`` would put the working directory on sys.path)
    _run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"], env, "flask db upgrade")
    script = "from forum import create_app\napp = create_app()\nwith app.app_context():\n" + textwrap.indent(
        textwrap.dedent(seed_code), "    ")
    out = _run([sys.executable, "-c", script], env, "seeding")
    lines = [line for line in out.strip().splitlines() if line.strip()]
    seed = json.loads(lines[-1]) if lines else None
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            # the README's ``gunicorn ... wsgi:app`` with the venv's script: ``-m gunicorn`` would put the working
            # directory on sys.path and hide a project that is not installed
            [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4",
             "--timeout", "60", "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log)
        yield base_url, seed
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def served_for_chromium(tmp_path: Path, seed_code: str, extra_env: dict[str, str] | None = None
                        ) -> Iterator[tuple[str, object]]:
    """``served_forum`` for a browser test: skipped where Debian's chromium is missing (CI installs it)."""
    import pytest

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    with served_forum(tmp_path, seed_code, extra_env) as served:
        yield served


@contextlib.contextmanager
def chromium_browser() -> Iterator[object]:
    """Headless Chromium through Playwright, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in_demo(page, base_url: str, email: str, password: str, remember_device: bool = False) -> None:
    """Sign in through the login form; demo staff give a code from the authenticator key the README publishes."""
    import pyotp

    from forum.demo.people import DEMO_TOTP_SECRET

    page.goto(base_url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if "/login/two-factor" in page.url:
        page.fill("input[name=code]", pyotp.TOTP(DEMO_TOTP_SECRET).now())
        if remember_device:
            page.check("input[name=remember]")
        page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
