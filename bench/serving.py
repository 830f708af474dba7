"""Waiting for a gunicorn the benchmarks started: the one loop they share."""
from __future__ import annotations

import subprocess
import time

import requests


def wait_until_serving(base: str, server: subprocess.Popen, seconds: float, poll: float = 0.05) -> float:
    """Seconds until ``base``/login answers 200; exits with a message if the server dies or stays silent."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited while starting")
        try:
            if requests.get(f"{base}/login", timeout=5).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(poll)
    raise SystemExit(f"the server did not answer within {seconds:.0f} s")


def stop_serving(server: subprocess.Popen, seconds: float = 30) -> None:
    """Stop a gunicorn the benchmark started: politely, then for good."""
    server.terminate()
    try:
        server.wait(seconds)
    except subprocess.TimeoutExpired:
        server.kill()
