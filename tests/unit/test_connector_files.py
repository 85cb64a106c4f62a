"""The file connector on real files in a temporary drop folder (fixtures in
tests/fixtures/files)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path
from types import SimpleNamespace as NS

import pyarrow as pa
import pytest

from complaints.connectors import SourceError, Window, open_connector

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "files"
DAY = date(2026, 10, 5)
SOURCE_ID = "kab-3327"
HEADER = [
    "Nomor Tiket",
    "Kode Wilayah",
    "Klasifikasi",
    "Judul",
    "Isi Laporan",
    "Status",
    "Nilai",
    "Terakhir Diperbarui",
]


def source(**options) -> NS:
    return NS(
        id=SOURCE_ID,
        timezone="Asia/Jakarta",
        connector=NS(kind="file", conn_id=None, options=options),
    )


def day_folder(settings, day: date = DAY) -> Path:
    folder = settings.drop_dir / SOURCE_ID / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def drop(settings, *names: str) -> Path:
    folder = day_folder(settings)
    for name in names:
        shutil.copy(FIXTURES / name, folder / name)
    return folder


def read(settings, day: date = DAY, **options):
    conn = open_connector(source(**options), settings)
    batches = list(conn.read(Window.for_day(day, "Asia/Jakarta")))
    return conn, batches


def rows_of(batches: list[pa.Table]) -> list[dict]:
    return [row for b in batches for row in b.to_pylist()]


def assert_all_strings(batches):
    for batch in batches:
        assert all(f.type == pa.string() for f in batch.schema), batch.schema


def test_utf8_bom_csv_quoted_newlines_repeated_header_and_truncated_row(settings):
    drop(settings, "ekspor_utf8_bom.csv")
    conn, batches = read(settings)
    assert_all_strings(batches)
    assert batches[0].column_names == HEADER + ["_file"]  # BOM gone from the first name
    rows = rows_of(batches)
    assert [r["Nomor Tiket"] for r in rows] == ["LPR-001", "LPR-002", "LPR-003", "LPR-004"]
    assert rows[0]["Isi Laporan"] == 'Lubang besar\ndi depan pasar, "bahaya"'
    assert rows[0]["Nilai"] is None  # empty cell
    assert rows[3]["Judul"] == "Terpotong" and rows[3]["Status"] is None  # truncated, yielded
    assert {r["_file"] for r in rows} == {"ekspor_utf8_bom.csv"}
    assert "ekspor_utf8_bom.csv: dropped 1 repeated header rows" in conn.notes


def test_cp1252_csv_with_semicolons(settings):
    drop(settings, "ekspor_cp1252.csv")
    conn, batches = read(settings)
    rows = rows_of(batches)
    assert rows[0]["Judul"] == "Pemalang Jl. Sudirman – café"
    assert rows[0]["Isi Laporan"] == "Trotoar rusak; “licin”"
    assert rows[1]["Isi Laporan"] == "Taman bermain – usulan"
    assert "ekspor_cp1252.csv: not UTF-8, read as Windows-1252" in conn.notes


def test_tsv_and_pipe_txt_with_nul_bytes(settings):
    drop(settings, "ekspor.tsv", "ekspor_pipe.txt")
    conn, batches = read(settings)
    assert_all_strings(batches)
    assert [b.column_names[:-1] == HEADER for b in batches] == [True, True]
    rows = rows_of(batches)
    assert [r["Nomor Tiket"] for r in rows] == ["LPR-201", "LPR-202", "LPR-301", "LPR-302"]
    assert rows[0]["Isi Laporan"] == "Mati sejak, kemarin"
    assert rows[3]["Isi Laporan"] == "Tambah rute"
    assert "ekspor_pipe.txt: removed 3 NUL bytes" in conn.notes


@pytest.mark.parametrize("name", ["ekspor_list.json", "ekspor_data.json"])
def test_json_list_or_data_object(settings, name):
    drop(settings, name)
    _, batches = read(settings)
    assert_all_strings(batches)
    rows = rows_of(batches)
    assert [r["Nomor Tiket"] for r in rows] == ["LPR-401", "LPR-402"]
    first, second = rows
    assert first["Rahasia"] == "true" and second["Rahasia"] == "false"
    assert first["Nilai"] == "4" and first["Nilai Rata"] == "4.5"
    assert first["Tanggal Selesai"] is None and second["Nilai"] is None  # null and absent
    assert json.loads(first["Lampiran"]) == {"jumlah": 2}
    assert second["Judul"] == "Lampu – café"


def test_ndjson_blank_and_truncated_lines(settings):
    drop(settings, "ekspor.ndjson")
    conn, batches = read(settings)
    rows = rows_of(batches)
    assert [r.get("Nomor Tiket") for r in rows] == ["LPR-401", "LPR-402", None]
    assert rows[2]["_file"] == "ekspor.ndjson"  # kept, so the mapping rejects and counts it
    assert any("1 lines are not JSON objects (line 4)" in n for n in conn.notes)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("data_not_a_list.json", "'data' must be a list of objects, found a JSON dict"),
        ("no_data_key.json", 'found no "data" key'),
    ],
)
def test_json_that_is_not_a_list_is_an_error_naming_the_file(settings, name, reason):
    drop(settings, name)
    with pytest.raises(SourceError) as info:
        read(settings)
    assert f"file {name} is unreadable" in str(info.value)
    assert reason in str(info.value)


def test_xlsx_reads_sheets_with_the_same_header_and_reports_others(settings):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Oktober"
    first.append(HEADER)
    first.append(["LPR-601", "3327", "PENGADUAN", "Jalan", "Rusak\nparah", "BARU", None, "x"])
    first.append(["LPR-602", 3327, "ASPIRASI", "Taman", "Bangku", "SELESAI", 5.0, "y"])
    second = book.create_sheet("Lanjutan")
    second.append(HEADER)
    second.append(["LPR-603", "3327", "PENGADUAN", "Air", "Keruh", "BARU", 4, "z"])
    other = book.create_sheet("Ringkasan")
    other.append(["Status", "Jumlah"])
    other.append(["BARU", 2])
    book.save(day_folder(settings) / "ekspor.xlsx")
    conn, batches = read(settings)
    assert_all_strings(batches)
    rows = rows_of(batches)
    assert [r["Nomor Tiket"] for r in rows] == ["LPR-601", "LPR-602", "LPR-603"]
    assert rows[0]["Isi Laporan"] == "Rusak\nparah" and rows[0]["Nilai"] is None
    assert rows[1]["Kode Wilayah"] == "3327" and rows[1]["Nilai"] == "5"
    assert any("sheet 'Ringkasan' skipped" in n for n in conn.notes)


def test_empty_and_header_only_files_yield_nothing_and_are_noted(settings):
    drop(settings, "empty.csv", "header_only.csv")
    conn, batches = read(settings)
    assert rows_of(batches) == []
    assert "empty.csv: empty, 0 rows" in conn.notes
    assert "header_only.csv: header only, 0 rows" in conn.notes


@pytest.mark.parametrize("name", ["garbage.csv", "garbage.xlsx", "garbage.json"])
def test_binary_garbage_is_an_error_naming_the_file(settings, name):
    data = bytes(range(256)) * 8 + b"\x00\x81\x8d\x8f\x90\x9d" * 50
    (day_folder(settings) / name).write_bytes(data)
    with pytest.raises(SourceError, match=f"file {name} is unreadable"):
        read(settings)


def test_symlink_outside_the_folder_and_odd_names_are_skipped(settings, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("Nomor Tiket\nRAHASIA\n")
    folder = drop(settings, "ekspor.tsv")
    os.symlink(secret, folder / "escape.csv")
    os.symlink(folder / "ekspor.tsv", folder / "alias.tsv")  # inside: allowed
    (folder / "a..b.csv").write_text("Nomor Tiket\nX\n")
    (folder / "upload.csv.part").write_text("Nomor Tiket\nX\n")
    (folder / "catatan.pdf").write_bytes(b"%PDF")
    (folder / "sub").mkdir()
    conn, batches = read(settings)
    rows = rows_of(batches)
    assert "RAHASIA" not in {r["Nomor Tiket"] for r in rows}
    assert {r["_file"] for r in rows} == {"alias.tsv", "ekspor.tsv"}
    notes = "\n".join(conn.notes)
    assert "escape.csv: skipped (symlink pointing outside the drop folder)" in notes
    assert "a..b.csv: skipped (unsafe file name)" in notes
    assert "upload.csv.part: skipped (still being written)" in notes
    assert "catatan.pdf: skipped (unsupported extension '.pdf')" in notes
    assert "sub: skipped (not a regular file)" in notes


def test_claim_manifest_is_stable_across_reruns(settings, caplog):
    folder = drop(settings, "ekspor.tsv", "ekspor_list.json")
    conn, first = read(settings)
    manifest = settings.state_dir / "claims" / SOURCE_ID / f"{DAY.isoformat()}.json"
    claim = json.loads(manifest.read_text())
    assert [f["name"] for f in claim["files"]] == ["ekspor.tsv", "ekspor_list.json"]
    assert claim["files"][0]["size"] == (folder / "ekspor.tsv").stat().st_size
    assert len(claim["files"][0]["sha256"]) == 64

    _, again = read(settings)  # rerun: same files, same rows, manifest untouched
    assert rows_of(again) == rows_of(first)
    assert json.loads(manifest.read_text()) == claim

    shutil.copy(FIXTURES / "ekspor_cp1252.csv", folder / "a_late.csv")  # sorts first by name
    _, late = read(settings)
    names = [f["name"] for f in json.loads(manifest.read_text())["files"]]
    assert names == ["ekspor.tsv", "ekspor_list.json", "a_late.csv"]  # appended, order kept
    assert rows_of(late)[: len(rows_of(first))] == rows_of(first)

    with (folder / "ekspor.tsv").open("a") as fh:
        fh.write("LPR-203\t3327\tPENGADUAN\tBaru\tTambahan\tBARU\t\t05/10/2026 19:00\n")
    conn, changed = read(settings)
    assert any("ekspor.tsv: changed since it was claimed" in n for n in conn.notes)
    assert "changed since it was claimed" in caplog.text
    assert len(rows_of(changed)) == len(rows_of(late)) + 1


def test_a_claimed_file_that_disappeared_is_an_error(settings):
    folder = drop(settings, "ekspor.tsv")
    read(settings)
    (folder / "ekspor.tsv").unlink()
    with pytest.raises(SourceError, match="ekspor.tsv was claimed .* no longer there"):
        read(settings)


def test_no_folder_for_the_day_is_zero_rows_with_a_note(settings):
    conn, batches = read(settings)
    assert batches == []
    assert conn.notes == [f"no files for {DAY} in the drop folder"]


def test_batches_are_bounded_and_updated_column_is_tracked(settings):
    folder = day_folder(settings)
    lines = ["Nomor Tiket,Terakhir Diperbarui"]
    lines += [f"T{i:03d},2026-10-05 {i % 24:02d}:00:00" for i in range(25)]
    (folder / "besar.csv").write_text("\n".join(lines) + "\n")
    conn, batches = read(settings, batch_rows=10, updated_column="Terakhir Diperbarui")
    assert [b.num_rows for b in batches] == [10, 10, 5]
    assert conn.max_updated == "2026-10-05T16:00:00Z"  # 23:00 WIB


def test_other_days_are_not_read(settings):
    drop(settings, "ekspor.tsv")
    _, batches = read(settings, day=date(2026, 10, 6))
    assert batches == []


def test_registry_file_options_pattern_encoding_delimiter_sheet(settings):
    openpyxl = pytest.importorskip("openpyxl")
    folder = drop(settings, "ekspor_cp1252.csv", "ekspor.tsv")
    book = openpyxl.Workbook()
    book.active.title = "Ringkasan"
    book.active.append(["Status", "Jumlah"])
    data = book.create_sheet("Data")
    data.append(["Nomor Tiket", "Judul"])
    data.append(["LPR-701", "Dari sheet Data"])
    book.save(folder / "ekspor.xlsx")

    conn, batches = read(settings, pattern="*.csv", encoding="cp1252", delimiter=";")
    assert [r["Nomor Tiket"] for r in rows_of(batches)] == ["LPR-101", "LPR-102"]
    assert "ekspor.tsv: skipped (does not match pattern '*.csv')" in conn.notes

    (settings.state_dir / "claims").rename(settings.state_dir / "claims-old")
    _, batches = read(settings, pattern="*.xlsx", sheet="Data")
    assert rows_of(batches) == [
        {"Nomor Tiket": "LPR-701", "Judul": "Dari sheet Data", "_file": "ekspor.xlsx"}
    ]


@pytest.mark.parametrize(
    "options,message",
    [
        ({"delimiter": "::"}, "option delimiter"),
        ({"encoding": "klingon-8"}, "option encoding"),
        ({"updated_is": "mars"}, "option updated_is"),
    ],
)
def test_bad_file_options_are_rejected(settings, options, message):
    with pytest.raises(SourceError, match=message):
        open_connector(source(**options), settings)


def test_forced_encoding_that_does_not_fit_names_the_file(settings):
    drop(settings, "ekspor_cp1252.csv")
    with pytest.raises(SourceError, match="file ekspor_cp1252.csv is unreadable: not valid utf-8"):
        read(settings, encoding="utf-8")


def test_a_file_dropped_after_its_day_was_read_is_named_by_the_next_days(settings, caplog):
    """No later day reads it (each day reads its own folder), so later days say so until the
    earlier day is rerun; a day never read yet is left to its own run."""
    from datetime import timedelta

    earlier = drop(settings, "ekspor.tsv")
    read(settings)  # DAY read: its file claimed
    shutil.copy(FIXTURES / "ekspor_cp1252.csv", earlier / "late.csv")
    (earlier / ".~lock.late.csv#").write_text("")  # skipped files are not late files
    never_read = day_folder(settings, DAY - timedelta(days=1))
    never_read.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "ekspor.tsv", never_read / "pending.tsv")
    nxt = DAY + timedelta(days=1)
    day_folder(settings, nxt).mkdir(parents=True, exist_ok=True)
    conn, _ = read(settings, day=nxt)
    late = [n for n in conn.notes if "dropped after that day was read" in n]
    assert late == [
        f"{DAY}: 1 files dropped after that day was read (late.csv); rerun {DAY} to read them"
    ]
    assert "late.csv" in caplog.text
    conn, rows = read(settings)  # the rerun reads it, and the next day no longer names it
    assert "late.csv" in {r["_file"] for r in rows_of(rows)}
    conn, _ = read(settings, day=nxt)
    assert not [n for n in conn.notes if "dropped after" in n]
