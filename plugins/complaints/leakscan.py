"""Find planted personal data (needles) in everything the pipeline wrote.

A plain byte search misses what compression hides, so files are decoded by kind (recognised
by their first bytes, not their names): Parquet values are read back with pyarrow, XLSX cells
with openpyxl, PDF text with pypdf, DuckDB tables through a read-only connection, gzip/bz2/xz
and zip members are decompressed and scanned again. Every file is also searched as bytes
(UTF-8 and UTF-16). Matching ignores case. Used by tests: plant a NIK, a name, a phone number in
the sources, run the pipeline, ``assert scan_paths([warehouse, outbox, logs], needles) == []``.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import logging
import lzma
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

#: nesting limit for archives inside archives
MAX_DEPTH = 3


@dataclass(frozen=True)
class Leak:
    path: Path
    needle: str
    where: str  # how it was found: "bytes", "parquet column body row 3", "xlsx Sheet1!B2", ...

    def __str__(self) -> str:
        return f"{self.path}: {self.needle!r} in {self.where}"


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        path = Path(path)
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())


def _kind(data: bytes) -> str:
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:3] == b"BZh":
        return "bz2"
    if data[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if data[8:12] == b"DUCK":
        return "duckdb"
    return "bytes"


# --- matching ------------------------------------------------------------------------------


def _re2_escape(needle: str) -> str:
    """Escape for RE2 (pyarrow's regex engine): every ASCII punctuation character."""
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() and ch != " " else ch
                   for ch in needle)  # fmt: skip


@functools.lru_cache(maxsize=8)
def _pattern(needles: tuple[str, ...]) -> str:
    """One alternation of all needles: RE2 matches it in linear time, however many needles."""
    return "|".join(_re2_escape(n) for n in needles)


def _hit_rows(values: pa.Array, needles: list[str]) -> pa.Array | None:
    """The values containing any needle (case-insensitive), or None when there is none."""
    if len(values) == 0 or values.null_count == len(values):
        return None
    hits = pc.match_substring_regex(values, _pattern(tuple(needles)), ignore_case=True)
    return hits if pc.any(hits).as_py() else None


def _in_bytes(data: bytes, needles: list[str]) -> list[tuple[str, str]]:
    texts = [data]
    if b"\x00" in data:  # UTF-16 text hides ASCII needles between NUL bytes
        texts.append(data.decode("utf-16-le", errors="ignore").encode("utf-8"))
    found = []
    for text in texts:
        values = pa.array([text], pa.binary())
        if _hit_rows(values, needles) is None:
            continue
        folded = text.decode("utf-8", errors="ignore").casefold()
        where = "bytes"  # found in the bytes as UTF-8 or as UTF-16
        found += [(n, where) for n in needles if n.casefold() in folded]
    return found


def _in_text(text: str, needles: list[str], where: str) -> list[tuple[str, str]]:
    folded = text.casefold()
    squeezed = re.sub(r"\s+", "", folded)
    found = []
    for needle in needles:
        n = needle.casefold()
        if n in folded or (re.sub(r"\s+", "", n) and re.sub(r"\s+", "", n) in squeezed):
            found.append((needle, where))
    return found


def _string_leaves(
    name: str, array: pa.Array, aligned: bool = True
) -> Iterator[tuple[str, pa.Array, bool]]:
    """Every string-like leaf of a (possibly nested) column, integers and decimals as text;
    ``aligned`` says whether the leaf's positions are still the rows."""
    t = array.type
    if pa.types.is_dictionary(t):
        yield from _string_leaves(name, array.dictionary_decode(), aligned)
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        yield name, array, aligned
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
        yield name, array, aligned
    elif pa.types.is_fixed_size_binary(t):
        yield name, array.cast(pa.binary()), aligned
    elif pa.types.is_integer(t) or pa.types.is_decimal(t):
        yield name, array.cast(pa.string()), aligned
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        yield from _string_leaves(name, array.flatten(), False)
    elif pa.types.is_map(t):
        yield from _string_leaves(name + ".key", array.keys, False)
        yield from _string_leaves(name + ".value", array.items, False)
    elif pa.types.is_struct(t):
        for i in range(t.num_fields):
            yield from _string_leaves(f"{name}.{t.field(i).name}", array.field(i), aligned)


def _in_table(table: pa.Table, needles: list[str], label: str, offset: int = 0):
    found = []
    for needle in needles:
        if any(needle.casefold() in str(n).casefold() for n in table.column_names):
            found.append((needle, f"{label} column name"))
    leaves = [
        (name, start, leaf, values, aligned)
        for name in table.column_names
        for start, chunk in _chunk_starts(table.column(name), offset)
        for leaf, values, aligned in _string_leaves(name, chunk)
    ]
    # one regex pass over every text value of the table; columns are looked at one by one only
    # when it finds something (compiling the alternation costs more than matching it)
    everything = [v.cast(pa.large_binary()) for *_, v, _ in leaves if len(v)]
    if not everything or _hit_rows(pa.concat_arrays(everything), needles) is None:
        return found
    for _name, start, leaf, values, aligned in leaves:
        if _hit_rows(values, needles) is None:
            continue
        for needle in needles:
            own = pc.match_substring(values, needle, ignore_case=True)
            if pc.any(own).as_py():
                where = f"{label} column {leaf}"
                if aligned:
                    where += f" row {start + pc.index(own, True).as_py()}"
                found.append((needle, where))
    return found


def _chunk_starts(column: pa.ChunkedArray, offset: int) -> Iterator[tuple[int, pa.Array]]:
    start = offset
    for chunk in column.chunks:
        yield start, chunk
        start += len(chunk)


# --- decoders ------------------------------------------------------------------------------


def _scan_parquet(data: bytes, needles: list[str]) -> list[tuple[str, str]]:
    found = []
    pf = pq.ParquetFile(pa.BufferReader(data))
    metadata = pf.schema_arrow.metadata or {}
    text = " ".join(k.decode("utf-8", "ignore") + " " + v.decode("utf-8", "ignore")
                    for k, v in metadata.items())  # fmt: skip
    found += _in_text(text, needles, "parquet metadata")
    offset = 0
    for batch in pf.iter_batches(batch_size=65536):
        table = pa.Table.from_batches([batch])
        found += _in_table(table, needles, "parquet", offset)
        offset += batch.num_rows
    return found


def _scan_xlsx(data: bytes, needles: list[str]) -> list[tuple[str, str]]:
    from openpyxl import load_workbook  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    found = []
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        for sheet in workbook.worksheets:
            found += _in_text(sheet.title, needles, f"xlsx sheet name {sheet.title}")
            for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                for c, value in enumerate(row, start=1):
                    if value is None:
                        continue
                    cell = f"xlsx {sheet.title}!{get_column_letter(c)}{r}"
                    for needle in needles:
                        if needle.casefold() in str(value).casefold():
                            found.append((needle, cell))
    finally:
        workbook.close()
    return found


def _scan_pdf(data: bytes, needles: list[str]) -> list[tuple[str, str]]:
    from pypdf import PdfReader  # noqa: PLC0415

    found = []
    reader = PdfReader(io.BytesIO(data))
    for number, page in enumerate(reader.pages, start=1):
        found += _in_text(page.extract_text() or "", needles, f"pdf page {number}")
    info = reader.metadata or {}
    found += _in_text(" ".join(str(v) for v in info.values()), needles, "pdf metadata")
    return found


def _scan_zip(data: bytes, needles: list[str], depth: int) -> list[tuple[str, str]]:
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if "xl/workbook.xml" in names:
            found += _scan_xlsx(data, needles)
        for name in names:
            member = archive.read(name)
            found += [(n, f"zip {name} > {w}") for n, w in _scan_blob(member, needles, depth + 1)]
    return found


def _scan_duckdb(path: Path, needles: list[str]) -> list[tuple[str, str]]:
    import duckdb  # noqa: PLC0415

    found = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        # base tables only: a view's rows live in other files (the warehouse's Parquet),
        # which the scan reads on their own; scanning views would read them all again
        relations = con.execute(
            "SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
        ).fetchall()
        for database, schema, name in relations:
            qualified = ".".join('"' + part.replace('"', '""') + '"'
                                 for part in (database, schema, name))  # fmt: skip
            try:
                relation = con.sql(f"SELECT * FROM {qualified}")  # noqa: S608
                reader = (
                    relation.to_arrow_reader()
                    if hasattr(relation, "to_arrow_reader")
                    else relation.fetch_arrow_reader()  # DuckDB < 1.4
                )
            except duckdb.Error:  # e.g. a view over files that are not there
                continue
            offset = 0
            for batch in reader:
                table = pa.Table.from_batches([batch])
                found += _in_table(table, needles, f"duckdb {schema}.{name}", offset)
                offset += batch.num_rows
    finally:
        con.close()
    return found


def _scan_blob(data: bytes, needles: list[str], depth: int = 0) -> list[tuple[str, str]]:
    found = _in_bytes(data, needles)
    kind = _kind(data)
    if depth >= MAX_DEPTH:
        return found
    if kind == "parquet":
        found += _scan_parquet(data, needles)
    elif kind == "zip":
        found += _scan_zip(data, needles, depth)
    elif kind == "pdf":
        found += _scan_pdf(data, needles)
    elif kind in ("gzip", "bz2", "xz"):
        inner = {"gzip": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress}[kind]
        found += [(n, f"{kind} > {w}") for n, w in _scan_blob(inner(data), needles, depth + 1)]
    return found


class ScanError(RuntimeError):
    """A file looks like a kind the scanner decodes but cannot be decoded: it could hide a leak."""


def scan_paths(paths: list[Path], needles: list[str]) -> list[Leak]:
    """Every place a needle occurs in the files under ``paths`` (files or folders, recursive).

    One Leak per file, needle and place found; an empty list means nothing leaked. Raises
    ScanError for a file that looks like Parquet/zip/PDF/gzip/... but cannot be decoded.
    """
    needles = [n for n in dict.fromkeys(needles) if n]
    # a non-ASCII needle is also looked for as JSON writes it with ASCII escapes ("Ren\\u00e9e"):
    # quarantine keeps its rows so
    as_found = {n: n for n in needles}
    for n in needles:
        as_found.setdefault(json.dumps(n, ensure_ascii=True)[1:-1], n)
    needles = list(as_found)
    leaks: list[Leak] = []
    for path in _files(paths):
        data = path.read_bytes()
        try:
            found = _scan_blob(data, needles)
        except Exception as exc:
            raise ScanError(f"{path}: cannot decode it as {_kind(data)}: {exc}") from exc
        if _kind(data) == "duckdb":
            try:
                found += _scan_duckdb(path, needles)
            except Exception as exc:  # locked by a writer, another version: bytes only
                log.warning("%s: DuckDB tables not readable (%s); searched its bytes only",
                            path, type(exc).__name__)  # fmt: skip
        for needle, where in dict.fromkeys((as_found[n], w) for n, w in found):
            leaks.append(Leak(path, needle, where))
    return leaks
