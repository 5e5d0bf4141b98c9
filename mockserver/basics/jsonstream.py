"""Reading one JSON document from a binary stream a piece at a time, in bounded memory.

The caller walks the containers it wants to see into (``members``, ``items``) and takes every
other value whole (``value``, the standard library's parser); only the piece being parsed and
a read-ahead of ``chunk`` bytes are held. A state import uses it to take a run's events one at a
time instead of parsing the whole body at once (docs/reliability.md, *Memory*).

Malformed input (not JSON, not UTF-8, ``NaN``/``Infinity``, anything after the document) is a
``ValueError``; a value nested beyond the parser's recursion limit a ``RecursionError``.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any

_SPACE = re.compile(r"[ \t\n\r]*")
_CHUNK = 256 * 1024


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class JsonStream:
    """One JSON document read from ``stream``, walked by the caller from the outside in."""

    def __init__(self, stream: IO[bytes], chunk: int = _CHUNK):
        self._stream = stream
        self._chunk = chunk
        self._text = codecs.getincrementaldecoder("utf-8-sig")()  # strict: bad UTF-8 is a ValueError
        self._decoder = json.JSONDecoder(parse_constant=_refuse_constant)
        self._buf = ""
        self._pos = 0
        self._eof = False

    def _read(self, at_least: int) -> bool:
        """Append at least ``at_least`` more characters (fewer at the end); False when none came."""
        start = len(self._buf) - self._pos
        parts = [self._buf[self._pos :]]
        added = 0
        while added < at_least and not self._eof:
            data = self._stream.read(self._chunk)
            text = self._text.decode(data, final=not data)
            self._eof = not data
            parts.append(text)
            added += len(text)
        self._buf, self._pos = "".join(parts), 0
        return len(self._buf) > start

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            self._pos = _SPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._read(1):
                return ""

    def _take(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r}")
        self._pos += 1

    def value(self) -> Any:
        """The next value, whole. A value running past what is read is parsed again with twice
        as much read ahead, so a large one costs about twice its parse, not a parse per chunk."""
        if not self.peek():
            raise ValueError("unexpected end of the document")
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError:
                if self._read(max(self._chunk, len(self._buf) - self._pos)):
                    continue
                raise
            # A number at the end of what is read may go on in the next chunk.
            if end == len(self._buf) and self._read(1):
                continue
            self._pos = end
            return value

    def members(self) -> Iterator[str]:
        """An object's keys, in order; after each, the caller takes its value (``value`` or a walk)."""
        self._take("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise ValueError("expected a key")
            key = self.value()
            self._take(":")
            yield key
            if self.peek() == "}":
                self._pos += 1
                return
            self._take(",")

    def items(self) -> Iterator[int]:
        """An array's indexes, in order; after each, the caller takes the item."""
        self._take("[")
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            if self.peek() == "]":
                self._pos += 1
                return
            self._take(",")

    def end(self) -> None:
        """Only white space may follow the document."""
        if self.peek():
            raise ValueError("data after the document")
