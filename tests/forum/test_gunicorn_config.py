"""gunicorn.conf.py: what each worker does once it has loaded the app."""
from __future__ import annotations

import gc
import runpy
from pathlib import Path


def test_each_worker_moves_the_loaded_app_out_of_the_collectors_way(app, monkeypatch):
    # The objects alive once the app is loaded (modules, templates, mappers) live as long as the worker; left
    # to the collector, every full collection walks them all again (bench/README.md, "Side by side with
    # FlaskBB": about a third of a list page's CPU time).
    monkeypatch.setitem(app.config, "WARM_UP", False)
    config = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        config["post_worker_init"](type("Worker", (), {"wsgi": app})())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
