"""The attachment store: files named by the sha256 of their content, outside the static folder.

``ATTACHMENT_DIR`` (default: ``attachments`` in the instance folder) holds ``ab/cd/<sha256>`` and, for images,
``thumbs/ab/<sha256>.png``. The same bytes uploaded twice are stored once. Nothing here is served by the
web server directly: every download goes through the attachments view and its permission check.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from flask import current_app
from PIL import Image

THUMB_BOX = (320, 240)


def root() -> Path:
    """The store's folder (created on first use)."""
    configured = current_app.config.get("ATTACHMENT_DIR") or os.path.join(current_app.instance_path, "attachments")
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _checked_hash(sha256: str) -> str:
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise ValueError("not a sha256 hex digest")  # a path is never built from anything else
    return sha256


def blob_path(sha256: str) -> Path:
    sha256 = _checked_hash(sha256)
    return root() / sha256[:2] / sha256[2:4] / sha256


def thumb_path(sha256: str) -> Path:
    sha256 = _checked_hash(sha256)
    return root() / "thumbs" / sha256[:2] / f"{sha256}.png"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its final place and renamed: a reader never sees half a file, two writers of the same
    # content leave one whole copy.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(sha256: str, data: bytes) -> Path:
    """Store ``data`` under its hash (once: the same content is already there)."""
    path = blob_path(sha256)
    if not path.exists():
        _write_atomically(path, data)
    return path


def save_thumbnail(sha256: str, data: bytes) -> Path:
    """A PNG no larger than ``THUMB_BOX`` for an image already checked by ``checks``."""
    path = thumb_path(sha256)
    if not path.exists():
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail(THUMB_BOX)
            out = io.BytesIO()
            image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, "PNG", optimize=True)
        _write_atomically(path, out.getvalue())
    return path
