"""JSON answers: the small HTTP vocabulary every part of the server shares."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Response


class RecordEncoder:
    """JSON for API answers, each stored record encoded once.

    Stored records are never changed after they are stored (copy-on-write, see platform.py),
    so a record's JSON can be kept and reused until the record is replaced. The cache holds
    the record itself, so its id() cannot be reused while the entry lives; it is bounded.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._cache: dict[int, tuple[Any, bytes]] = {}

    def record(self, record: dict[str, Any]) -> bytes:
        entry = self._cache.get(id(record))
        if entry is not None and entry[0] is record:
            return entry[1]
        encoded = json.dumps(record, separators=(",", ":")).encode()
        if len(self._cache) >= self.size:
            self._cache.clear()  # cheap and rare: the next reads fill it again
        self._cache[id(record)] = (record, encoded)
        return encoded

    def encode(self, body: Any) -> bytes:
        """``body`` as JSON; ``bytes`` (a record kept encoded, such as a run event) is JSON already."""
        if isinstance(body, list):
            if all(type(item) is bytes for item in body):
                return b"[" + b",".join(body) + b"]"
            if all(type(item) is dict for item in body):
                return b"[" + b",".join(self.record(item) for item in body) + b"]"
        if type(body) is dict:
            return self.record(body)
        if type(body) is bytes:
            return body
        return json.dumps(body, separators=(",", ":")).encode()


def iter_json(value: Any, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """``value`` as compact JSON in chunks of about ``chunk_size`` bytes, where ``bytes`` inside
    it are records already encoded as JSON. Lists and dicts are walked, so a large value is never
    encoded in one piece; whatever else is small is encoded with json.dumps."""
    buffer: list[bytes] = []
    size = 0
    for piece in _json_pieces(value):
        buffer.append(piece)
        size += len(piece)
        if size >= chunk_size:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def _json_pieces(value: Any) -> Iterator[bytes]:
    if type(value) is bytes:
        yield value
    elif isinstance(value, dict) and len(value) > 8 or isinstance(value, dict) and _holds_bytes(value):
        yield b"{"
        for index, (key, item) in enumerate(value.items()):
            yield (b"," if index else b"") + json.dumps(str(key)).encode() + b":"
            yield from _json_pieces(item)
        yield b"}"
    elif isinstance(value, (list, tuple)) and (len(value) > 8 or _holds_bytes(value)):
        yield b"["
        for index, item in enumerate(value):
            if index:
                yield b","
            yield from _json_pieces(item)
        yield b"]"
    else:
        yield json.dumps(value, separators=(",", ":")).encode()


class DecodingList(list[bytes]):
    """A list of records kept as JSON bytes that reads as the records: decoded a block at a
    time when reached, so checking a million of them never holds them all decoded (and one
    parse per block is several times faster than one per record)."""

    BLOCK = 1024

    def __iter__(self) -> Iterator[Any]:
        items = list(list.__iter__(self))
        for start in range(0, len(items), self.BLOCK):
            yield from json.loads(b"[" + b",".join(items[start : start + self.BLOCK]) + b"]")

    def __getitem__(self, index: Any) -> Any:
        item = list.__getitem__(self, index)
        return [json.loads(i) for i in item] if isinstance(index, slice) else json.loads(item)


def decoded_view(value: Any) -> Any:
    """``value`` (holding records as JSON bytes) as plain data, lists of encoded records as
    DecodingLists; what is not a container of those is returned as it is."""
    if isinstance(value, dict):
        return {key: decoded_view(item) for key, item in value.items()}
    if isinstance(value, list) and value and type(value[0]) is bytes:
        return DecodingList(value)
    return value


def _holds_bytes(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(type(item) is bytes or isinstance(item, (dict, list, tuple)) for item in items)


# The answer to a bug in the mock (an unexpected exception), on every surface.
INTERNAL_ERROR = "internal error in runagents-mock"


def error_body(message: str) -> bytes:
    """Every error the server sends has this one shape: ``{"error": "..."}``."""
    return json.dumps({"error": message}, separators=(",", ":")).encode()


# Already a loud failure: strict checks leave it as it is (no document lists a bug's answer).
INTERNAL_ERROR_BODY = error_body(INTERNAL_ERROR)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(error_body(message), status=status, mimetype="application/json", headers=dict(headers or {}))


def json_or_none(raw: bytes) -> Any:
    """``raw`` parsed as JSON, or None when it is not JSON (empty, malformed, not UTF-8, too deep)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
