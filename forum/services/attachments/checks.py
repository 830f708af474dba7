"""What an upload is, decided from its bytes: an allow-listed image (Pillow decodes it) or text (it decodes).

The name only has to agree with what the content turned out to be: ``report.html`` or ``x.svg`` is refused
whatever it holds, and a PNG called ``notes.txt`` (or text called ``shot.png``) is refused too. Images are
decoded and written out again, which drops EXIF (a phone screenshot's location) and anything glued after the
image data (a polyglot's HTML); text keeps its bytes.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import format_decimal, gettext
from PIL import Image, ImageOps, UnidentifiedImageError

from mining.documents import error_signatures

from ..board.threads import ValidationFailed

IMAGE_EXTENSIONS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
TEXT_EXTENSIONS = frozenset({"log", "txt", "out", "err", "trace", "conf", "cfg", "ini", "properties", "yaml", "yml",
                             "json", "xml", "toml", "csv", "env", "sql"})
MAX_IMAGE_PIXELS = 40_000_000  # a 8000 x 5000 screenshot; more is a decompression bomb, not a screenshot
HEAD_LINES = 20
HEAD_LINE_CHARS = 300
SIGNATURE_SCAN_CHARS = 2_000_000
MAX_SIGNATURE_LINES = 30
MAX_SCANNED_LINES = 100_000
_MAYBE_SIGNATURE = re.compile(r"[A-Z]{2}|[Ee]rror|[Ee]xception|[Ff]ail|code|0x|HTTP|http", re.A)
_UNSAFE_NAME = re.compile(r"[^\w.\- ()+]")


class FileRefused(ValidationFailed):
    """An upload refused, with a reason a program can act on: ``too_large``, ``too_many``, ``type_not_allowed``
    (by its name or by what its content turned out to be) or ``empty``."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, "files")
        self.reason = reason


@dataclass
class CheckedFile:
    """An upload that passed every check, ready to store."""

    filename: str
    kind: str  # "image" or "text" (AttachmentKind's values)
    content_type: str
    data: bytes
    sha256: str
    width: int | None = None
    height: int | None = None
    head_text: str = ""
    signatures: list[str] = field(default_factory=list)
    signature_lines: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


def clean_filename(raw: str | None) -> str:
    """A display name without paths, control characters or markup characters, at most 120 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFKC", name)).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + dot + ext[:9]) if dot else name[:120]
    return name or "file"


def human_size(n: int) -> str:
    """``5 MB``, ``1.5 MB``, ``900 KB``, ``12 bytes``."""
    if n >= 1048576:
        return format_decimal(round(n / 1048576, 1), format="#,##0.#") + " MB"  # "1,5 MB" in German
    if n >= 1024:
        return format_decimal(round(n / 1024), format="#,##0") + " KB"
    return gettext("%(num)s bytes", num=n)


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def allowed_extensions() -> list[str]:
    return sorted(IMAGE_EXTENSIONS) + sorted(TEXT_EXTENSIONS)


def check_file(raw_name: str | None, data: bytes, max_bytes: int) -> CheckedFile:
    """The upload as a ``CheckedFile``, or ``FileRefused`` saying why it is refused."""
    name = clean_filename(raw_name)
    if not data:
        raise FileRefused(gettext("%(name)s is empty.", name=name), "empty")
    if len(data) > max_bytes:
        raise FileRefused(gettext("%(name)s is %(size)s; a file can be at most %(limit)s.", name=name,
                                  size=human_size(len(data)), limit=human_size(max_bytes)), "too_large")
    ext = extension(name)
    if ext in IMAGE_EXTENSIONS:
        return _check_image(name, data)
    if ext in TEXT_EXTENSIONS:
        return _check_text(name, data)
    raise FileRefused(gettext("%(name)s: this kind of file cannot be attached. Allowed: images (%(images)s) and text "
                              "files such as logs and configuration (.log, .txt, .conf, .yaml, .json, .xml …).",
                              name=name, images=", ".join(sorted(IMAGE_EXTENSIONS))), "type_not_allowed")


def _check_image(name: str, data: bytes) -> CheckedFile:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            detected = probe.format
            if detected not in IMAGE_TYPES:
                raise UnidentifiedImageError(detected)
            if probe.width * probe.height > MAX_IMAGE_PIXELS:
                raise FileRefused(gettext("%(name)s is %(width)s x %(height)s pixels; at most %(millions)s million "
                                          "pixels.", name=name, width=probe.width, height=probe.height,
                                          millions=MAX_IMAGE_PIXELS // 1_000_000), "too_large")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            clean, width, height = reencode(image, detected)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FileRefused(gettext("%(name)s is not a readable image.", name=name), "type_not_allowed") from exc
    if IMAGE_EXTENSIONS[extension(name)] != detected and {IMAGE_EXTENSIONS[extension(name)], detected} != {"JPEG"}:
        # The content wins: a GIF called .png is shown as what it is.
        name = name.rpartition(".")[0] + "." + detected.lower().replace("jpeg", "jpg")
    return CheckedFile(filename=name, kind="image", content_type=IMAGE_TYPES[detected], data=clean,
                       sha256=hashlib.sha256(clean).hexdigest(), width=width, height=height)


def reencode(image: Image.Image, fmt: str) -> tuple[bytes, int, int]:
    """The image written out again from its pixels only: no EXIF, no trailing bytes, rotation applied."""
    if fmt == "GIF":
        image.seek(0)  # the first frame: an animation is not a screenshot
    image = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=90)
    else:
        image = image.convert("RGBA") if image.mode not in ("RGB", "RGBA", "L", "LA", "P") else image
        image.save(out, "PNG" if fmt == "PNG" else "GIF", optimize=True)
    return out.getvalue(), image.width, image.height


def decode_text(data: bytes) -> str | None:
    """The bytes as text (UTF-8, or UTF-16 with its byte-order mark as Windows tools write logs); None if
    they are not text: undecodable, or holding NUL or other control characters a log does not have."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    controls = sum(1 for ch in text[:200_000] if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\x1b")
    if "\x00" in text or controls > max(2, len(text[:200_000]) // 1000):
        return None
    return text


def _check_text(name: str, data: bytes) -> CheckedFile:
    text = decode_text(data)
    if text is None:
        raise FileRefused(gettext("%(name)s is not a text file (a log or configuration file must be readable text, "
                                  "UTF-8 or UTF-16).", name=name), "type_not_allowed")
    lines = text.splitlines()
    head = "\n".join(line[:HEAD_LINE_CHARS] for line in lines[:HEAD_LINES])
    signatures, signature_lines = log_signatures(text)
    return CheckedFile(filename=name, kind="text", content_type="text/plain; charset=utf-8", data=data,
                       sha256=hashlib.sha256(data).hexdigest(), head_text=head, signatures=signatures,
                       signature_lines=signature_lines)


def log_signatures(text: str) -> tuple[list[str], str]:
    """The error signatures in a log (the same extraction as a post's body) and the lines they stand on."""
    scanned = text[:SIGNATURE_SCAN_CHARS]
    signatures = error_signatures(scanned)
    if not signatures:
        return [], ""
    kept: list[str] = []
    missing = set(signatures)
    for line in scanned.splitlines()[:MAX_SCANNED_LINES]:
        # Cheap test first: most lines of a log hold no word a signature could start with.
        if not _MAYBE_SIGNATURE.search(line):
            continue
        found = missing.intersection(error_signatures(line))
        if found:
            kept.append(line.strip()[:HEAD_LINE_CHARS])
            missing -= found
            if not missing or len(kept) >= MAX_SIGNATURE_LINES:
                break
    return signatures[:50], "\n".join(kept)
