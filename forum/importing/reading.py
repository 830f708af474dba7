"""Reading an import file a line at a time, in binary, so bad bytes and huge lines become line errors."""
from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import IO

from .records import LineInvalid

#: A line longer than this is refused before it is parsed (a thread with dozens of long replies fits).
MAX_LINE_BYTES = 8 * 1024 * 1024


def read_lines(stream: IO[bytes], max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str | LineInvalid]]:
    """Yield ``(line number, text)`` for every non-blank line, or ``(line number, LineInvalid)``.

    Reads in binary so that an over-long line is skipped without holding it, and bad bytes are reported
    with their position instead of failing the whole file. A UTF-8 byte order mark is dropped.
    """
    lineno = 0
    while True:
        raw = stream.readline(max_bytes + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > max_bytes:
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line, a chunk at a time
                raw = stream.readline(1 << 20)
            yield lineno, LineInvalid([f"line is longer than {max_bytes // (1024 * 1024)} MiB"])
            continue
        if lineno == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                yield lineno, LineInvalid(["the file is UTF-16; save it as UTF-8 (one JSON object per line)"])
                return
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, LineInvalid([f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"])
            continue
        if text.strip():
            yield lineno, text


def count_lines(stream: IO[bytes]) -> int:
    """Newlines in the stream (plus one for a last line without one): the progress total."""
    count, last = 0, b"\n"
    while chunk := stream.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (last != b"\n")
