"""Avatars: an uploaded picture, checked like an attached image, cropped square, resized and re-encoded (EXIF and
anything else beside the pixels dropped), kept in the attachment store by its hash; or initials from the name."""
from __future__ import annotations

import hashlib
import io

from flask_babel import gettext
from PIL import Image, ImageOps

from ...extensions import db
from ...models import User
from ..board.threads import ValidationFailed
from . import store
from .checks import IMAGE_TYPES, MAX_IMAGE_PIXELS

SIZE = 256
MAX_BYTES = 5 * 1024 * 1024


def _square_png(data: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in IMAGE_TYPES:
                raise ValidationFailed(gettext("Upload a PNG, JPEG, GIF or WebP picture."), "avatar")
            if probe.width * probe.height > MAX_IMAGE_PIXELS:
                raise ValidationFailed(gettext("That picture has too many pixels."), "avatar")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image = ImageOps.exif_transpose(image).convert("RGBA")
            square = ImageOps.fit(image, (SIZE, SIZE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            square.save(out, "PNG", optimize=True)
            return out.getvalue()
    except ValidationFailed:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationFailed(gettext("That file is not a picture we can read."), "avatar") from exc


def set_avatar(user: User, data: bytes) -> str:
    """Make ``data`` the user's avatar; returns its hash."""
    if not data:
        raise ValidationFailed(gettext("Choose a picture."), "avatar")
    if len(data) > MAX_BYTES:
        raise ValidationFailed(gettext("A picture can be at most %(megabytes)s MB.", megabytes=MAX_BYTES // 1048576),
                               "avatar")
    png = _square_png(data)
    sha = hashlib.sha256(png).hexdigest()
    store.save(sha, png)
    user.avatar_sha256 = sha
    db.session.commit()
    return sha


def remove_avatar(user: User) -> None:
    """Back to initials (the stored picture may be someone else's too: it stays)."""
    user.avatar_sha256 = None
    db.session.commit()


def avatar_path(user: User, sha: str):
    """The stored picture when ``sha`` is this user's current avatar; None otherwise."""
    if not user.avatar_sha256 or user.avatar_sha256 != sha:
        return None
    path = store.blob_path(sha)
    return path if path.exists() else None


def initials(name: str | None) -> str:
    """Up to two letters for the generated avatar: "Ann Smith" -> "AS", "ann" -> "A"; "?" when none."""
    words = [w for w in (name or "").replace(".", " ").replace("_", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:1] + words[1:][-1:])
    return letters.upper() or "?"


def colour_index(user_id: int) -> int:
    """One of eight background colours, stable per member."""
    return user_id % 8
