"""The pyarrow CSV reader gives exactly the Python ``csv`` reader's tables and FileStats.

Every delimited fixture of the file connector and bad-input tests, and many generated files
(ragged rows, quoted newlines, stray quotes, blank and whitespace lines, repeated headers, CR/LF
mixes, cp1252 and mixed encodings, tiny pyarrow blocks), is read by ``read_delimited`` (pyarrow,
falling back where it must) and by the Python reader alone; batches and stats must be equal.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import pytest

from complaints.connectors import arrow_csv, file_formats
from complaints.connectors.file_formats import (
    FileStats,
    ReadOptions,
    UnreadableFile,
    read_delimited,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DELIMITED = sorted(
    p
    for folder in ("bad_input", "files")
    for p in (FIXTURES / folder).iterdir()
    if p.suffix in (".csv", ".tsv", ".txt")
)
#: fixtures pyarrow reads to the end without handing over to the Python reader
ARROW_TO_THE_END = {
    "bom.csv",
    "duplicated_header.csv",
    "ekspor.tsv",
    "ekspor_cp1252.csv",
    "ekspor_utf8_bom.csv",
    "extra_columns.csv",
    "future_timestamps.csv",
    "header_only.csv",
    "missing_optional_columns.csv",
    "missing_required_column.csv",
    "quoted_newlines.csv",
    "ratings.csv",
    "renamed_columns.csv",
    "semicolon.csv",
    "three_date_formats.csv",
    "thousands.csv",
    "truncated_last_line.csv",
    "unknown_regions.csv",
}


def outcome(read, path: Path, batch_rows: int, opts: ReadOptions):
    stats = FileStats()
    try:
        tables = list(read(path, batch_rows, stats, opts))
    except UnreadableFile as exc:
        return ("unreadable", str(exc)), asdict(stats)
    return [(t.column_names, t.to_pydict()) for t in tables], asdict(stats)


PYTHON_READER = file_formats._read_delimited_python


def python_only(path, batch_rows, stats, opts):
    encoding = file_formats._encoding(path, opts)
    stats.encoding = encoding
    file_formats._check_text(path, encoding)
    return PYTHON_READER(path, encoding, batch_rows, stats, opts, 0)


@pytest.fixture
def handovers(monkeypatch):
    """Counts the times read_delimited hands (part of) a file to the Python reader."""
    calls = []

    def counted(*args):
        calls.append(args[0].name)
        return PYTHON_READER(*args)

    monkeypatch.setattr(file_formats, "_read_delimited_python", counted)
    return calls


def assert_same(path: Path, batch_rows: int = 50_000, opts: ReadOptions = ReadOptions()):
    fast = outcome(read_delimited, path, batch_rows, opts)
    slow = outcome(python_only, path, batch_rows, opts)
    assert fast == slow, path.name
    return fast


@pytest.mark.parametrize("path", DELIMITED, ids=lambda p: p.name)
@pytest.mark.parametrize("batch_rows", [1, 2, 50_000])
def test_fixtures_read_the_same(path, batch_rows, handovers):
    assert_same(path, batch_rows)
    assert (handovers == []) == (path.name in ARROW_TO_THE_END)


@pytest.mark.parametrize(
    ("name", "opts"),
    [
        ("semicolon.csv", ReadOptions(delimiter=",")),
        ("ekspor_cp1252.csv", ReadOptions(delimiter=";", encoding="cp1252")),
        ("ekspor_cp1252.csv", ReadOptions(encoding="utf-8")),  # unreadable in both
        ("bom.csv", ReadOptions(encoding="utf-8")),  # the BOM stays in the first name
        ("bom.csv", ReadOptions(encoding="utf-8-sig")),
        ("ekspor.tsv", ReadOptions(delimiter="|")),
    ],
)
def test_fixtures_with_fixed_options_read_the_same(name, opts):
    (path,) = [p for p in DELIMITED if p.name == name]
    assert_same(path, 2, opts)


def test_plain_file_is_read_by_pyarrow_alone(tmp_path, handovers):
    path = tmp_path / "ekspor.csv"
    lines = ["Nomor Tiket,Judul,Isi Laporan"]
    lines += [f'T{i},"Judul {i}","baris\nkedua, ""kutip"" {i}"' for i in range(1000)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    tables, stats = assert_same(path, 300)
    assert [len(columns["Nomor Tiket"]) for _, columns in tables] == [300, 300, 300, 100]
    assert stats["rows"] == 1000 and handovers == []


def test_truncated_last_line_and_long_rows_stay_in_pyarrow(tmp_path, handovers):
    path = tmp_path / "ekspor.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6,7,,\n8,9,10\n11,12\n", encoding="utf-8")
    tables, stats = assert_same(path, 2)
    assert tables[0] == (["a", "b", "c", "_extra"], {**_cols(1, 4), "_extra": [None, '["7"]']})
    assert tables[1][1]["c"] == ["10", None]
    assert (stats["rows"], stats["long_rows"]) == (4, 1) and handovers == []


def _cols(*firsts):
    rows = {1: ("1", "2", "3"), 4: ("4", "5", "6")}
    return {k: [rows[f][i] for f in firsts] for i, k in enumerate("abc")}


def test_python_reader_takes_over_after_the_yielded_batches(tmp_path, monkeypatch, handovers):
    """A row longer than pyarrow's block late in the file: the batches before it come from
    pyarrow, the rest from the Python reader, and together they equal the Python reader's."""
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 256)
    path = tmp_path / "ekspor.csv"
    rows = [f"T{i},judul {i}" for i in range(40)] + ["T40," + "x" * 1000, "T41,akhir"]
    path.write_text("Nomor,Judul\n" + "\n".join(rows) + "\n", encoding="utf-8")
    tables, stats = assert_same(path, 10)
    assert stats["rows"] == 42 and handovers == ["ekspor.csv"]


def test_field_over_the_python_limit_is_unreadable_in_both(tmp_path):
    """pyarrow's blocks are far smaller than the csv module's 16 MiB field limit, so a field
    over the limit always reaches the Python reader, which refuses the file."""
    path = tmp_path / "ekspor.csv"
    path.write_text("a,b\n1,2\n3," + "y" * (16 * 1024 * 1024 + 1) + "\n", encoding="utf-8")
    (kind, message), _ = assert_same(path, 1)
    assert kind == "unreadable" and "field larger than field limit" in message


# -- generated files ----------------------------------------------------------------------------

WORDS = ["Jalan", "rusak", "café", "–", "“kutip”", "Nomor", " ", "  spasi ", "12.000", "é", "ï¿½"]


def _field(rnd: random.Random, delimiter: str) -> str:
    kind = rnd.random()
    word = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 3)))
    if kind < 0.15:
        return ""
    if kind < 0.35:
        inner = word + rnd.choice(["", delimiter, "\n", "\r\n", '""', "\r"]) + rnd.choice(WORDS)
        return f'"{inner}"'
    if kind < 0.40:
        return '""'
    if kind < 0.44:
        return rnd.choice(['ab"c', '"ab"c', 'x"', '"a""b"cd'])  # stray quotes
    return word


def _generated(rnd: random.Random, delimiter: str) -> str:
    header = ["Nomor Tiket", "Judul", "Isi", "Status", "Nilai"][: rnd.randint(1, 5)]
    width = len(header)
    newline = rnd.choice(["\n", "\r\n", "\r"])
    lines = [delimiter.join(header)]
    for _ in range(rnd.randint(0, 60)):
        kind = rnd.random()
        if kind < 0.05:
            lines.append("")
        elif kind < 0.08:
            lines.append(rnd.choice([" ", "\t", delimiter * (width - 1)]))
        elif kind < 0.11:
            lines.append(delimiter.join(f" {h} " for h in header) + rnd.choice(["", delimiter]))
        else:
            n = width if rnd.random() < 0.8 else max(1, width + rnd.randint(-2, 2))
            lines.append(delimiter.join(_field(rnd, delimiter) for _ in range(n)))
    text = newline.join(lines)
    ending = rnd.random()
    if ending < 0.6:
        text += newline
    elif ending < 0.7:
        text += delimiter + '"open'  # an unterminated quote at the end
    return text


def _encode(rnd: random.Random, text: str) -> tuple[bytes, str]:
    kind = rnd.choice(["utf-8", "utf-8-sig", "cp1252", "mixed"])
    if kind == "mixed":
        lines = text.split("\n")
        parts = [line.encode(rnd.choice(["utf-8", "cp1252"])) for line in lines]
        return b"\n".join(parts), kind
    return text.encode(kind), kind


@pytest.mark.parametrize("seed", range(500))
def test_generated_files_read_the_same(tmp_path, monkeypatch, seed):
    rnd = random.Random(seed)
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", rnd.choice([64, 128, 512, 1 << 20]))
    delimiter = rnd.choice([",", ";", "\t", "|"])
    data, kind = _encode(rnd, _generated(rnd, delimiter))
    if rnd.random() < 0.2:
        data = b"\n\r\n" + data
    path = tmp_path / rnd.choice(["ekspor.csv", "ekspor.tsv", "ekspor.txt"])
    path.write_bytes(data)
    opts = ReadOptions()
    if rnd.random() < 0.3:
        encoding = rnd.choice(["utf-8", "utf-8-sig", "cp1252"] + [kind] * 3).replace("mixed", "")
        opts = ReadOptions(delimiter=rnd.choice([None, delimiter]), encoding=encoding or None)
    assert_same(path, rnd.choice([1, 3, 7, 50_000]), opts)


def test_most_generated_files_stay_in_pyarrow(tmp_path, monkeypatch, handovers):
    """The generated files are not all handed over: the comparison above tests pyarrow."""
    for seed in range(300):
        rnd = random.Random(seed)
        delimiter = rnd.choice([",", ";", "\t", "|"])
        data, _ = _encode(rnd, _generated(rnd, delimiter))
        path = tmp_path / f"{seed}.csv"
        path.write_bytes(data)
        try:
            list(read_delimited(path, 7, FileStats(), ReadOptions(delimiter=delimiter)))
        except UnreadableFile:
            continue  # a mixed file with UTF-8 bytes Windows-1252 lacks
    assert len(handovers) < 150


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
@pytest.mark.parametrize("size", [2, 3, 5, 8, 64])
def test_blocks_hold_the_whole_file_and_never_part_a_crlf(tmp_path, encoding, size):
    rnd = random.Random(size)
    text = "".join(rnd.choice(["a", "\r\n", "\r", "\n", "\u00e9", ","]) for _ in range(500))
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    with arrow_csv._Utf8Blocks(path, encoding) as source:
        blocks = list(iter(lambda: source.read(size), b""))
    assert b"".join(blocks).decode() == text
    assert all(0 < len(b) <= size for b in blocks)
    for block, after in zip(blocks, blocks[1:], strict=False):
        assert not (block.endswith(b"\r") and after.startswith(b"\n"))
