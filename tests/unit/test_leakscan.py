"""complaints.leakscan: needles planted in every file kind are found, clean files give nothing."""

from __future__ import annotations

import bz2
import gzip
import zipfile
import zlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from complaints.leakscan import Leak, ScanError, scan_paths

NIK = "3171012345678901"
NAME = "Budi Santoso"
NEEDLES = [NIK, NAME, "budi.santoso@mail.com"]


def _rows(planted: str | None, n: int = 2000, at: int = 777) -> list[str]:
    rows = [f"Laporan {i}: jalan rusak di RT {i % 20}" for i in range(n)]
    if planted is not None:  # neither the smallest nor the largest value (statistics)
        rows[at] = f"Laporan {at}: pelapor {planted} jalan rusak"
    return rows


def _parquet(path: Path, planted: str | None) -> Path:
    pq.write_table(pa.table({"body": _rows(planted)}), path, compression="zstd")
    return path


def _pdf(path: Path, text: str) -> Path:
    """A one-page PDF whose content stream is deflated, so its text is not in the bytes."""
    content = zlib.compress(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def _xlsx(path: Path, planted: str | None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Laporan"
    ws.append(["Nomor Tiket", "Judul"])
    ws.append(["T-1", planted or "Jalan rusak"])
    wb.save(path)
    return path


def _duckdb(path: Path, planted: str | None) -> Path:
    con = duckdb.connect(str(path))
    rows = pa.table({"id": pa.array(range(2000), pa.int32()), "body": _rows(planted)})
    con.register("rows", rows)
    con.execute("CREATE TABLE complaints AS SELECT * FROM rows")
    con.unregister("rows")
    con.execute("CREATE VIEW recent AS SELECT body FROM complaints WHERE id > 700")
    con.close()
    return path


def _wheres(leaks: list[Leak], needle: str) -> list[str]:
    return [leak.where for leak in leaks if leak.needle == needle]


def test_plain_text_utf8_utf16_and_case(tmp_path):
    (tmp_path / "a.csv").write_text(f"id,nama\n1,{NAME.upper()}\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(f"NIK {NIK}", encoding="utf-16-le")
    leaks = scan_paths([tmp_path], NEEDLES)
    assert sorted((leak.path.name, leak.needle, leak.where) for leak in leaks) == [
        ("a.csv", NAME, "bytes"),
        ("b.txt", NIK, "bytes"),
    ]


def test_parquet_zstd_is_decoded(tmp_path):
    path = _parquet(tmp_path / "part-0.parquet", NIK)
    assert NIK.encode() not in path.read_bytes()  # a byte grep would miss it
    assert scan_paths([tmp_path], NEEDLES) == [Leak(path, NIK, "parquet column body row 777")]


def test_parquet_nested_integer_and_column_name(tmp_path):
    path = tmp_path / "q"  # no suffix: recognised by its magic bytes
    table = pa.table(
        {
            "reasons": pa.array([["ok"], ["nik " + NIK.lower()]], pa.list_(pa.string())),
            "nik_number": pa.array([1, int(NIK)], pa.int64()),
            "cat": pa.array(["a", NAME]).dictionary_encode(),
            f"x_{NAME}": pa.array([None, None], pa.string()),
        }
    )
    pq.write_table(table, path, compression="zstd")
    wheres = _wheres(scan_paths([path], NEEDLES), NIK)
    assert "parquet column reasons" in wheres
    assert "parquet column nik_number row 1" in wheres
    name_wheres = _wheres(scan_paths([path], NEEDLES), NAME)
    assert "parquet column cat row 1" in name_wheres
    assert "parquet column name" in name_wheres


def test_xlsx_cells_are_read(tmp_path):
    path = _xlsx(tmp_path / "report.xlsx", f"Hubungi {NAME}")
    assert NAME.encode() not in path.read_bytes()
    assert "xlsx Laporan!B2" in _wheres(scan_paths([path], NEEDLES), NAME)


def test_pdf_text_is_extracted(tmp_path):
    path = _pdf(tmp_path / "report.pdf", f"Pelapor {NAME} NIK {NIK}")
    assert NAME.encode() not in path.read_bytes()
    leaks = scan_paths([path], NEEDLES)
    assert _wheres(leaks, NAME) == ["pdf page 1"]
    assert _wheres(leaks, NIK) == ["pdf page 1"]


def test_duckdb_tables_are_queried_views_are_not_read_twice(tmp_path):
    """A view's rows live in a table or in files that the scan reads on their own."""
    path = _duckdb(tmp_path / "catalog.duckdb", NIK)
    wheres = _wheres(scan_paths([path], NEEDLES), NIK)
    assert "duckdb main.complaints column body row 777" in wheres
    assert not any("main.recent" in w for w in wheres)


def test_compressed_files_are_decompressed(tmp_path):
    (tmp_path / "log.txt.gz").write_bytes(gzip.compress(f"user {NAME} logged".encode()))
    (tmp_path / "x.bz2").write_bytes(bz2.compress(NIK.encode() * 3))
    parquet_bytes = _parquet(tmp_path / "tmp.parquet", NIK).read_bytes()
    (tmp_path / "tmp.parquet").unlink()
    (tmp_path / "p.parquet.gz").write_bytes(gzip.compress(parquet_bytes))
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inner/notes.txt", f"e-mail budi.santoso@mail.com {'x' * 200}")
    found = {(leak.path.name, leak.needle, leak.where) for leak in scan_paths([tmp_path], NEEDLES)}
    assert found == {
        ("log.txt.gz", NAME, "gzip > bytes"),
        ("x.bz2", NIK, "bz2 > bytes"),
        ("p.parquet.gz", NIK, "gzip > parquet column body row 777"),
        ("bundle.zip", "budi.santoso@mail.com", "zip inner/notes.txt > bytes"),
    }


def test_clean_files_of_every_kind_give_no_leaks(tmp_path):
    _parquet(tmp_path / "a.parquet", None)
    _xlsx(tmp_path / "b.xlsx", None)
    _pdf(tmp_path / "c.pdf", "Laporan bulanan: 12 pengaduan selesai")
    _duckdb(tmp_path / "d.duckdb", None)
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress(b"id,judul\n1,jalan rusak\n"))
    sub = tmp_path / "nested" / "deeper"
    sub.mkdir(parents=True)
    (sub / "f.json").write_text('{"reporter_key": "7075344ce3ab3535"}')
    assert scan_paths([tmp_path], NEEDLES) == []


def test_files_and_folders_mixed_and_empty_needles_ignored(tmp_path):
    one = tmp_path / "one.txt"
    one.write_text(NIK)
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "two.txt").write_text(NIK)
    leaks = scan_paths([one, folder, tmp_path / "missing"], [NIK, "", NIK])
    assert [leak.path.name for leak in leaks] == ["one.txt", "two.txt"]
    assert str(leaks[0]) == f"{one}: '{NIK}' in bytes"


def test_undecodable_parquet_is_an_error_not_silence(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1" + b"\x00" * 50)
    with pytest.raises(ScanError, match="broken.parquet"):
        scan_paths([tmp_path], NEEDLES)


def test_non_ascii_needles_are_found_behind_json_ascii_escapes(tmp_path):
    """Quarantine keeps rows as JSON with ASCII escapes: "Renée" is stored as "Ren\\u00e9e"."""
    import json

    name = "Renée Dédé"
    row = json.dumps({"Nama Pelapor": name, "Kota": "Bekasi"}, ensure_ascii=True)
    path = tmp_path / "part-0.parquet"
    pq.write_table(pa.table({"raw": [row, "{}"]}), path)
    assert name not in row
    found = {(leak.needle, leak.where) for leak in scan_paths([tmp_path], [name, "Bekasi"])}
    assert {(name, "parquet column raw row 0"), ("Bekasi", "parquet column raw row 0")} <= found
    assert {needle for needle, _ in found} == {name, "Bekasi"}  # reported as planted
