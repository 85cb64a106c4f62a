"""Delimited text through pyarrow's streaming CSV reader, with the Python reader's exact result.

``file_formats.read_delimited`` reads a file here when ``arrow_encoding`` finds its bytes plain
enough, and goes on with its ``csv``-module reader when ``NotExact`` is raised (a row longer
than a block, a ragged row that does not re-parse cleanly, an unexpected row numbering). Tables
come in the Python reader's batches (exactly ``batch_rows`` rows, the rest last), so that reader
can resume after the rows already yielded by skipping as many.

The Python reader's rules, kept here: every cell is a string and an empty one is null; the
header row (row 1) must parse as the Python reader parsed it and is dropped; rows whose cells
are all empty are blank lines (dropped, not counted); rows equal to the header after stripping
are dropped and counted (``_Rows.values`` decides, on the few rows containing a header name).
Ragged rows (another field count than the header's) reach ``invalid_row_handler``, which keeps
them with pyarrow's row number; they are re-parsed with the ``csv`` module (strictly: one row,
no quote left open) and go through the same ``_Rows.values`` (nulls padded, fields beyond the
header as ``_extra``), in their place between the other rows.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from complaints.connectors.base import rows_to_table
from complaints.connectors.filescan import scan

BLOCK_BYTES = 1 << 20
_SCAN = 1 << 22
_DECODERS = {"utf-8": None, "utf-8-sig": None, "cp1252": "cp1252"}
_LONE_CR = re.compile(rb"\r(?!\n)")


class NotExact(Exception):
    """pyarrow would not read the rest of the file as the Python reader does."""


def arrow_encoding(path: Path, encoding: str, *, fixed: bool, per_line: bool) -> str | None:
    """The file's encoding as ``arrow_batches`` takes it (``utf-8`` or ``cp1252``) when it is
    decoded there as the Python reader does, else None. Never with NUL bytes (the Python reader
    removes and counts them) nor, with a fixed ``utf-8`` (which keeps a BOM), a BOM. With
    ``per_line`` (detected Windows-1252: the Python reader decodes each line on its own, UTF-8
    first, splitting lines at LF only) also never with a BOM, a line that is valid UTF-8 with
    non-ASCII bytes, or a CR not followed by LF."""
    name = codecs.lookup(encoding).name
    if name not in _DECODERS:
        return None
    if scan(path).nul:  # remembered from the claim's pass over the file
        return None
    tail = b""
    with path.open("rb") as fh:
        head = fh.read(len(codecs.BOM_UTF8))
        if head == codecs.BOM_UTF8 and (per_line or (fixed and name == "utf-8")):
            return None
        fh.seek(0)
        while per_line and (chunk := fh.read(_SCAN)):
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            if _not_cp1252_alike(data[:cut]):
                return None
            tail = data[cut:]
    if per_line and _not_cp1252_alike(tail):
        return None
    return _DECODERS[name] or "utf-8"


def _not_cp1252_alike(lines: bytes) -> bool:
    """Whether some line is valid UTF-8 with non-ASCII bytes (the Python reader decodes it as
    UTF-8) or has a CR not followed by LF; also, to stay exact, when U+FFFD's own bytes occur
    (a replaced invalid byte is then told from a real U+FFFD by those bytes' absence)."""
    if _LONE_CR.search(lines) or "\ufffd".encode() in lines:
        return True
    text = lines.decode("utf-8", errors="replace")
    return any(not line.isascii() and "\ufffd" not in line for line in text.split("\n"))


def arrow_batches(
    path: Path, encoding: str, delimiter: str, raw: list[str], rows: Any
) -> Iterator[pa.Table]:
    """The file's rows after its header ``raw`` as the Python reader's batches; ``rows`` is its
    ``_Rows`` (header, stats, batch size). Raises NotExact before yielding anything it is not
    sure of."""
    merge = _Merge(rows, delimiter, raw)
    names = [f"f{i}" for i in range(len(raw))]
    batches = _Batches(rows.batch_rows)
    with _Utf8Blocks(path, encoding) as source:
        try:
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(
                    column_names=names, block_size=BLOCK_BYTES, use_threads=False
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    quote_char='"',
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                    ignore_empty_lines=True,
                    invalid_row_handler=merge.keep_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    check_utf8=False,  # the caller decoded the whole file; cp1252 is re-encoded
                ),
            )
            for batch in reader:
                for piece in merge.pieces(pa.Table.from_batches([batch])):
                    yield from batches.add(piece)
        except pa.ArrowInvalid as exc:
            raise NotExact(str(exc)) from None
    for piece in merge.rest():
        yield from batches.add(piece)
    yield from batches.last()


class _Utf8Blocks(io.RawIOBase):
    """The file as UTF-8 bytes, in reads that never end between a CR and an LF: pyarrow drops
    an LF that starts a block after a CR that ended the previous one, even inside quotes."""

    def __init__(self, path: Path, encoding: str):
        self.fh = path.open("rb")
        self.cp1252 = encoding == "cp1252"
        self.pending = b""
        self.eof = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self.cp1252 and size > len(self.pending) and not self.eof:
            return self._read_utf8(size)
        while not self.eof and (size < 0 or len(self.pending) <= size):
            chunk = self.fh.read(max(size, BLOCK_BYTES))
            self.eof = not chunk
            self.pending += chunk.decode("cp1252").encode() if self.cp1252 else chunk
        cut = len(self.pending) if size < 0 else min(size, len(self.pending))
        if 1 < cut < len(self.pending) and self.pending[cut - 1 : cut + 1] == b"\r\n":
            cut -= 1
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out

    def _read_utf8(self, size: int) -> bytes:
        """A UTF-8 file's next ``size`` bytes as read, without copying them into and out of
        ``pending`` (that cost four copies of the file and fresh pages for each): at most the
        ``\r`` that ends a read waits for the next one, in case an LF follows."""
        chunk = self.fh.read(size - len(self.pending))
        if not chunk:
            self.eof = True
            out, self.pending = self.pending, b""
            return out
        if self.pending:
            chunk = self.pending + chunk
        self.pending = b""
        if chunk.endswith(b"\r") and len(chunk) > 1:
            chunk, self.pending = chunk[:-1], b"\r"
        return chunk

    def close(self) -> None:
        self.fh.close()
        super().close()


class _Merge:
    """Puts pyarrow's valid rows and the ragged rows it skipped back in file order."""

    def __init__(self, rows: Any, delimiter: str, raw: list[str]):
        self.rows, self.delimiter, self.raw = rows, delimiter, raw
        self.invalid: deque = deque()
        self.number = 0  # pyarrow's number of the last row placed (the header is 1)
        header = rows.raw_header
        self.probe = next(i for i, name in enumerate(header) if name)  # header[-1] is a name

    def keep_invalid(self, row) -> str:
        self.invalid.append(row)
        return "skip"

    def pieces(self, table: pa.Table) -> Iterator[pa.Table]:
        start, size = 0, table.num_rows
        if self.number == 0:
            if not size:
                return
            first = [v or "" for v in table.slice(0, 1).to_pylist()[0].values()]
            if (self.invalid and self.invalid[0].number == 1) or first != self.raw:
                raise NotExact("the header row parses differently")
            start = self.number = 1
        while self.invalid and self._number(self.invalid[0]) <= self.number + size - start + 1:
            row = self.invalid.popleft()
            take = row.number - self.number - 1
            if take < 0:
                raise NotExact("a ragged row's number is out of order")
            if take:
                yield self._clean(table.slice(start, take))
                start += take
            self.number = row.number
            yield self._ragged(row.text)
        if start < size:
            yield self._clean(table.slice(start))
            self.number += size - start

    def rest(self) -> Iterator[pa.Table]:
        """Ragged rows after the last valid one (a truncated last line)."""
        if self.number == 0:
            raise NotExact("pyarrow read no header row")
        while self.invalid:
            row = self.invalid.popleft()
            if self._number(row) != self.number + 1:
                raise NotExact("a ragged row's number is out of order")
            self.number = row.number
            yield self._ragged(row.text)

    @staticmethod
    def _number(row) -> int:
        if row.number is None:
            raise NotExact("pyarrow gave no row number")
        return row.number

    def _ragged(self, text: str) -> pa.Table:
        try:
            parsed = list(
                csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True)
            )
        except csv.Error:
            raise NotExact("a ragged row does not re-parse cleanly") from None
        if len(parsed) != 1:
            raise NotExact("a ragged row re-parses as several")
        values = self.rows.values(parsed[0])
        if values is None:
            return pa.table({})
        header = self.rows.header
        table = rows_to_table(header + ["_extra"] * (len(values) > len(header)), [values])
        self.rows.stats.rows += 1
        return table

    def _clean(self, table: pa.Table) -> pa.Table:
        """Valid rows without blank rows and repeated headers, under the header's names."""
        table = table.rename_columns(self.rows.header)
        drop = set()
        if all(column.null_count for column in table.columns):  # else no row is blank
            present = functools.reduce(pc.or_, map(pc.is_valid, table.columns))
            drop.update(pc.indices_nonzero(pc.invert(present)).to_pylist())
        maybe = pc.match_substring(table.column(self.probe), self.rows.raw_header[self.probe])
        if pc.any(maybe).as_py():  # null cells give null, which any() skips
            for i in pc.indices_nonzero(maybe).to_pylist():
                if self.rows.values(list(table.slice(i, 1).to_pylist()[0].values())) is None:
                    drop.add(i)
        if drop:
            table = table.filter(pa.array([i not in drop for i in range(table.num_rows)]))
        self.rows.stats.rows += table.num_rows
        return table


class _Batches:
    """Regroups tables into batches of exactly ``size`` rows; ``_extra`` only where used."""

    def __init__(self, size: int):
        self.size = size
        self.parts: list[pa.Table] = []
        self.count = 0

    def add(self, table: pa.Table) -> Iterator[pa.Table]:
        if not table.num_rows:
            return
        self.parts.append(table)
        self.count += table.num_rows
        while self.count >= self.size:
            whole = pa.concat_tables(self.parts, promote_options="default")
            rest = whole.slice(self.size)
            self.parts, self.count = [rest], rest.num_rows
            yield _without_empty_extra(whole.slice(0, self.size))

    def last(self) -> Iterator[pa.Table]:
        if self.count:
            yield _without_empty_extra(pa.concat_tables(self.parts, promote_options="default"))


def _without_empty_extra(table: pa.Table) -> pa.Table:
    if "_extra" in table.column_names:
        extra = table.column("_extra")
        if extra.null_count == len(extra):
            return table.drop_columns(["_extra"])
    return table
