"""A small incremental JSON reader: one array element at a time, so big files stream.

The standard library decodes whole documents only; this decodes the top-level list (or the
``data`` list of a top-level object) element by element with ``JSONDecoder.raw_decode`` over a
growing buffer. NUL characters are removed and counted in ``stats.nul_removed``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


class UnreadableFile(Exception):
    """The file cannot be read as its extension says; the message says why."""


class JsonStream:
    """Decodes one JSON value at a time from a text file, so big arrays stream."""

    def __init__(self, fh, stats):
        self.fh = fh
        self.stats = stats
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> None:
        data = self.fh.read(max(65536, len(self.buf) - self.pos))
        if not data:
            self.eof = True
            return
        if "\x00" in data:
            self.stats.nul_removed += data.count("\x00")
            data = data.replace("\x00", "")
        self.buf = self.buf[self.pos :] + data
        self.pos = 0

    def peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos] if self.pos < len(self.buf) else ""
            self._fill()

    def take(self, expected: str) -> None:
        found = self.peek()
        if found != expected:
            raise UnreadableFile(f"invalid JSON: expected {expected!r}, found {found or 'end'!r}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise UnreadableFile(f"invalid JSON: {exc.msg}") from None
                self._fill()
                continue
            if end == len(self.buf) and not self.eof:  # a number may go on in the next chunk
                self._fill()
                continue
            self.pos = end
            return obj

    def array(self) -> Iterator[Any]:
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.peek() == ",":
                self.pos += 1
                continue
            self.take("]")
            return


def json_records(stream: JsonStream) -> Iterator[Any]:
    first = stream.peek()
    if first == "":
        return
    if first == "[":
        yield from stream.array()
        return
    if first != "{":
        raise UnreadableFile('expected a list of objects or {"data": [...]}, found a JSON value')
    stream.take("{")
    while stream.peek() != "}":
        key = stream.value()
        stream.take(":")
        if key == "data":
            if stream.peek() != "[":
                found = type(stream.value()).__name__
                raise UnreadableFile(f"'data' must be a list of objects, found a JSON {found}")
            yield from stream.array()
            return
        stream.value()
        if stream.peek() == ",":
            stream.pos += 1
    raise UnreadableFile('expected a list of objects or {"data": [...]}, found no "data" key')
