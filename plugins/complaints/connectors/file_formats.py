"""Readers for the file formats sources drop: delimited text, XLSX, JSON, NDJSON.

Each reader streams one file as string-valued ``pyarrow.Table`` chunks of at most
``batch_rows`` rows, and records what it had to clean up in a ``FileStats``. A file that cannot
be read at all raises ``UnreadableFile``; the connector names the file in its SourceError.

Rules shared by the text formats: the encoding is UTF-8 (with or without BOM) or, when the file is
not valid UTF-8, Windows-1252; NUL bytes are removed and counted. Delimited files: the delimiter is
sniffed from the header line among ``, ; TAB |``, quoted fields may hold newlines, header rows
repeated inside the file are dropped and counted, empty cells are null, a short (truncated) row is
yielded with nulls for the missing fields (the mapping stage rejects it), fields beyond the header
go to an ``_extra`` column as a JSON list. pyarrow's streaming CSV reader reads delimited files
wherever it gives exactly these results (``arrow_csv``); the ``csv`` module reads the rest.
"""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from complaints.connectors.arrow_csv import NotExact, arrow_batches, arrow_encoding
from complaints.connectors.base import records_to_table, rows_to_table, to_text
from complaints.connectors.filescan import scan
from complaints.connectors.json_stream import JsonStream, UnreadableFile, json_records

DELIMITED = (".csv", ".tsv", ".txt")
JSON = (".json",)
NDJSON = (".ndjson", ".jsonl")
XLSX = (".xlsx",)
EXTENSIONS = DELIMITED + JSON + NDJSON + XLSX
DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 20


@dataclass
class FileStats:
    encoding: str = ""
    rows: int = 0
    nul_removed: int = 0
    repeated_headers: int = 0
    long_rows: int = 0
    bad_lines: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    header_only: bool = False


@dataclass(frozen=True)
class ReadOptions:
    """Per-source overrides: a fixed delimiter or encoding, the one XLSX sheet to read."""

    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None


def _encoding(path: Path, opts: ReadOptions) -> str:
    if not opts.encoding:
        return detect_encoding(path)
    try:
        decoder = codecs.getincrementaldecoder(opts.encoding)()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UnreadableFile(f"not valid {opts.encoding} text") from None
    return opts.encoding


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` if the whole file decodes as UTF-8 (``filescan``: usually remembered from
    the claim), else ``cp1252`` if that decodes."""
    if scan(path).utf8:
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("cp1252")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UnreadableFile("not text: neither UTF-8 nor Windows-1252") from None
    return "cp1252"


class _text_lines:  # noqa: N801 - used like open()
    """The file's lines as text. A detected file that is not all UTF-8 is decoded line by line
    (UTF-8 first, then Windows-1252), since exports are often appended to by tools with different
    encodings; ``stats.encoding`` says ``mixed`` when both occurred."""

    def __init__(self, path: Path, encoding: str, opts: ReadOptions, stats: FileStats):
        self.path, self.encoding, self.opts, self.stats = path, encoding, opts, stats

    def __enter__(self):
        if self.opts.encoding or self.encoding != "cp1252":
            self.fh = self.path.open(encoding=self.encoding, newline="")
            return self.fh
        self.fh = self.path.open("rb")
        return self._mixed(self.fh)

    def __exit__(self, *exc) -> None:
        self.fh.close()

    def _mixed(self, fh) -> Iterator[str]:
        kinds = set()
        for n, raw in enumerate(fh):
            if n == 0 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                line = raw.decode("utf-8")
                kinds.add("utf-8" if any(b > 127 for b in raw) else "ascii")
            except UnicodeDecodeError:
                line = raw.decode("cp1252", errors="replace")
                kinds.add("cp1252")
            yield line
        if {"utf-8", "cp1252"} <= kinds:
            self.stats.encoding = "mixed (utf-8 and cp1252 lines)"


def _check_text(path: Path, encoding: str) -> None:
    with path.open(encoding=encoding, newline="") as fh:
        sample = fh.read(65536)
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f")
    if sample and control / len(sample) > 0.05:
        raise UnreadableFile("looks binary (many control bytes), not text")


def _strip_nul(lines: Iterable[str], stats: FileStats) -> Iterator[str]:
    for line in lines:
        if "\x00" in line:
            stats.nul_removed += line.count("\x00")
            line = line.replace("\x00", "")
        yield line


def sniff_delimiter(header_line: str, default: str) -> str:
    """The candidate that splits the header line (outside quotes) most often."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts.values())
    if best == 0 or counts[default] == best:
        return default
    return next(d for d in DELIMITERS if counts[d] == best)


def clean_header(cells: list[Any]) -> list[str]:
    """Header names stripped; trailing blanks dropped; blanks and duplicates made unique."""
    names = [(to_text(c) or "").replace("\x00", "").strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        out.append(name)
    return out


class _Rows:
    """Turns raw positional rows into batches under one header (shared by CSV and XLSX).
    The first ``skip`` rows are counted but not kept (they were yielded by the Arrow reader)."""

    def __init__(self, header: list[str], raw_header: list[str], batch_rows: int, stats, skip=0):
        self.header = header
        self.raw_header = raw_header
        self.batch_rows = batch_rows
        self.stats = stats
        self.skip = skip
        self.rows: list[list[Any]] = []
        self.extra = False

    def values(self, cells: list[Any]) -> list[Any] | None:
        """The row as stored: None for a blank row or a repeated header (counted); fields beyond
        the header become one more value, the ``_extra`` JSON list."""
        values = [None if c is None or c == "" else c for c in cells]
        while values and values[-1] is None:
            values.pop()
        if not values:
            return None  # blank line
        if [(to_text(c) or "").strip() for c in cells[: len(self.raw_header)]] == self.raw_header:
            self.stats.repeated_headers += 1
            return None
        n = len(self.header)
        if len(values) > n:
            self.stats.long_rows += 1
            extra = json.dumps([to_text(v) for v in values[n:]], ensure_ascii=False)
            values = values[:n] + [extra]
        return values

    def add(self, cells: list[Any]) -> pa.Table | None:
        values = self.values(cells)
        if values is None:
            return None
        self.stats.rows += 1
        if self.stats.rows <= self.skip:
            return None
        self.extra = self.extra or len(values) > len(self.header)
        self.rows.append(values)
        return self.flush() if len(self.rows) >= self.batch_rows else None

    def flush(self) -> pa.Table | None:
        if not self.rows:
            return None
        columns = self.header + (["_extra"] if self.extra else [])
        table = rows_to_table(columns, self.rows)
        self.rows, self.extra = [], False
        return table


def read_delimited(
    path: Path, batch_rows: int, stats: FileStats, opts: ReadOptions = ReadOptions()
) -> Iterator[pa.Table]:
    """pyarrow's streaming CSV reader when it reads the file exactly as the ``csv`` module
    reader below does (``arrow_csv``), else, or from where it stops being sure, the latter."""
    encoding = _encoding(path, opts)
    stats.encoding = encoding
    _check_text(path, encoding)
    per_line = not opts.encoding and encoding == "cp1252"
    fast = arrow_encoding(path, encoding, fixed=bool(opts.encoding), per_line=per_line)
    head = _plain_header(path, encoding, opts) if fast else None
    yielded = 0
    if head is not None:
        delimiter, raw = head
        header = clean_header(raw)
        rows = _Rows(header, [c.strip() for c in raw], batch_rows, stats)
        try:
            for table in arrow_batches(path, fast, delimiter, raw, rows):
                yielded += table.num_rows
                yield table
            stats.header_only = stats.rows == 0
            return
        except NotExact:
            stats.rows = stats.repeated_headers = stats.long_rows = 0
    yield from _read_delimited_python(path, encoding, batch_rows, stats, opts, yielded)


def _plain_header(path: Path, encoding: str, opts: ReadOptions) -> tuple[str, list[str]] | None:
    """The delimiter and header cells when the header is the first non-empty line and its
    names are unique, non-blank and as many as its cells (what ``arrow_batches`` needs)."""
    with _text_lines(path, encoding, opts, FileStats()) as fh:
        for line in fh:
            if line.strip():
                break
            if line not in ("\n", "\r\n", "\r"):
                return None
        else:
            return None
        delimiter = opts.delimiter or sniff_delimiter(line, _default_delimiter(path))
        try:
            raw = next(csv.reader(_chain(line, fh), delimiter=delimiter, strict=False))
        except csv.Error:
            return None
    header = clean_header(raw)
    if len(header) != len(raw) or len(set(header)) != len(header):
        return None
    return delimiter, raw


def _default_delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _read_delimited_python(
    path: Path, encoding: str, batch_rows: int, stats: FileStats, opts: ReadOptions, skip: int
) -> Iterator[pa.Table]:
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    with _text_lines(path, encoding, opts, stats) as fh:
        lines = _strip_nul(fh, stats)
        header_line = next((line for line in lines if line.strip()), None)
        if header_line is None:
            return
        delimiter = opts.delimiter or sniff_delimiter(header_line, _default_delimiter(path))
        reader = csv.reader(_chain(header_line, lines), delimiter=delimiter, strict=False)
        try:
            raw = next(reader)
            header = clean_header(raw)
            raw_header = [(c or "").strip() for c in raw][: len(header)]
            rows = _Rows(header, raw_header, batch_rows, stats, skip)
            for cells in reader:
                table = rows.add(cells)
                if table is not None:
                    yield table
        except csv.Error as exc:
            raise UnreadableFile(f"line {reader.line_num}: {exc}") from None
    table = rows.flush()
    if table is not None:
        yield table
    stats.header_only = stats.rows == 0


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _cell(value: Any) -> Any:
    """Spreadsheet numbers that are whole stay whole (Excel stores 5 as 5.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def read_xlsx(
    path: Path, batch_rows: int, stats: FileStats, opts: ReadOptions = ReadOptions()
) -> Iterator[pa.Table]:
    import openpyxl  # noqa: PLC0415 - only needed for spreadsheets
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise UnreadableFile(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    stats.encoding = "xlsx"
    try:
        rows: _Rows | None = None
        sheets = book.worksheets
        if opts.sheet is not None:
            sheets = [ws for ws in sheets if ws.title == opts.sheet]
            if not sheets:
                raise UnreadableFile(f"has no sheet named {opts.sheet!r}")
        for index, sheet in enumerate(sheets):
            cells = sheet.iter_rows(values_only=True)
            first = next((r for r in cells if any(v not in (None, "") for v in r)), None)
            if first is None:
                if index > 0:
                    stats.notes.append(f"sheet {sheet.title!r} is empty")
                continue
            raw = [(to_text(_cell(v)) or "").strip() for v in first]
            if rows is None:
                header = clean_header(list(first))
                rows = _Rows(header, raw[: len(header)], batch_rows, stats)
            elif raw[: len(rows.raw_header)] != rows.raw_header or any(raw[len(rows.raw_header) :]):
                stats.notes.append(
                    f"sheet {sheet.title!r} skipped: its header differs from the first sheet's"
                )
                continue
            for row in cells:
                table = rows.add([_cell(v) for v in row])
                if table is not None:
                    yield table
        if rows is not None and (table := rows.flush()) is not None:
            yield table
        stats.header_only = rows is not None and stats.rows == 0
    finally:
        book.close()


def _open_json_text(path: Path, stats: FileStats, opts: ReadOptions):
    encoding = _encoding(path, opts)
    stats.encoding = encoding
    _check_text(path, encoding)
    return path.open(encoding=encoding)


def _batches(records: Iterable[dict], batch_rows: int, stats: FileStats) -> Iterator[pa.Table]:
    """Records as tables of at most ``batch_rows`` rows, counting them in ``stats``."""
    pending: list[dict] = []
    for record in records:
        pending.append(record)
        stats.rows += 1
        if len(pending) >= batch_rows:
            yield records_to_table(pending)
            pending = []
    if pending:
        yield records_to_table(pending)


def read_json(
    path: Path, batch_rows: int, stats: FileStats, opts: ReadOptions = ReadOptions()
) -> Iterator[pa.Table]:
    def objects(fh) -> Iterator[dict]:
        for i, record in enumerate(json_records(JsonStream(fh, stats))):
            if not isinstance(record, dict):
                raise UnreadableFile(
                    f"element {i} is a JSON {type(record).__name__}, not an object"
                )
            yield record

    with _open_json_text(path, stats, opts) as fh:
        yield from _batches(objects(fh), batch_rows, stats)


def read_ndjson(
    path: Path, batch_rows: int, stats: FileStats, opts: ReadOptions = ReadOptions()
) -> Iterator[pa.Table]:
    """One object per line; a line that is not an object is yielded as an empty row (so the
    mapping stage rejects and counts it) and its number is noted."""

    def objects(fh) -> Iterator[dict]:
        for number, line in enumerate(_strip_nul(fh, stats), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict):
                stats.bad_lines.append(number)
                record = {}
            yield record

    with _open_json_text(path, stats, opts) as fh:
        yield from _batches(objects(fh), batch_rows, stats)


def read_any(
    path: Path, batch_rows: int, stats: FileStats, opts: ReadOptions = ReadOptions()
) -> Iterator[pa.Table]:
    suffix = path.suffix.lower()
    if suffix in DELIMITED:
        return read_delimited(path, batch_rows, stats, opts)
    if suffix in XLSX:
        return read_xlsx(path, batch_rows, stats, opts)
    if suffix in JSON:
        return read_json(path, batch_rows, stats, opts)
    if suffix in NDJSON:
        return read_ndjson(path, batch_rows, stats, opts)
    raise UnreadableFile(f"unsupported extension {suffix!r}")
