"""Bad input through the real ingest path: nothing crashes, nothing bad is published, nothing is
lost.

Every fixture (tests/fixtures/bad_input/, or generated here when large) is dropped into a file
source's folder and run through ``complaints.pipeline.ingest_source`` exactly as the DAG runs it:
file connector -> pseudonymise -> map_batch -> audit_batch (GX) -> publish. Each test asserts

* the run does not crash: ingest_source returns, or raises the SourceError it documents;
* the outcome is a specific quarantine reason, or a clear source-level error recorded in
  ``ingest_runs`` (status ``failed``) or a note there;
* rows_read = rows_loaded + rows_quarantined, in ``ingest_runs`` and in the warehouse tables
  (complaint_history rows of the source-day + quarantine rows = rows_read).

Most fixtures are read next to a padding file of good rows (``00_padding.csv``) so their few bad
rows stay under the 5% batch threshold; the padding file is read first, so the fixture's rows
are numbered from ``PAD``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
from bad_input_support import (
    DAY,
    FIXTURES,
    HEADER,
    PAD,
    SOURCE_ID,
    Lapor,
    build_fixtures,
    csv_text,
    failed,
    good_row,
    pad,
    published,
    raw_of,
    reconcile,
)


def history_rows(lapor: Lapor, ids: list[str]) -> dict[str, dict]:
    rows = lapor.query(
        "select * from complaint_history where source_id = ? and seen_day = ?",
        [SOURCE_ID, DAY],
    )
    return {r["complaint_id"]: r for r in rows if r["complaint_id"] in ids}


def test_fixtures_are_generated():
    """The committed fixtures are exactly what bad_input_support.build_fixtures writes."""
    built = build_fixtures()
    committed = {p.name for p in FIXTURES.iterdir() if p.is_file()}
    assert committed == set(built)
    for name, data in built.items():
        assert (FIXTURES / name).read_bytes() == data, name


# -- files with no rows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "note"),
    [("empty.csv", "empty.csv: empty, 0 rows"), ("header_only.csv", "header only, 0 rows")],
)
def test_no_rows_is_noted_and_reconciles(lapor, name, note):
    lapor.drop_fixture(name)
    out = published(lapor.ingest(), read=0, loaded=0)
    assert note in out.run["error"]
    assert out.quarantine == []


def test_no_rows_next_to_good_rows(lapor):
    pad(lapor)
    lapor.drop_fixture("empty.csv")
    lapor.drop_fixture("header_only.csv")
    out = published(lapor.ingest(), read=PAD, loaded=PAD)
    assert "empty.csv: empty, 0 rows" in out.run["error"]
    assert "header_only.csv: header only, 0 rows" in out.run["error"]


# -- broken rows -------------------------------------------------------------------------------


def test_truncated_last_line_is_quarantined(lapor):
    pad(lapor)
    lapor.drop_fixture("truncated_last_line.csv")
    out = published(lapor.ingest(), read=PAD + 4, loaded=PAD + 3)
    (bad,) = out.quarantine
    assert bad["row_number"] == PAD + 3
    assert bad["complaint_id"] == "LPR-09004"
    assert {"missing status", "missing submitted_at", "missing updated_at"} <= set(bad["reasons"])
    assert raw_of(bad)["Isi Laporan"] == "Laporan "  # what arrived is kept, as it arrived


def test_sniffed_semicolon_delimiter_loads(lapor):
    lapor.drop_fixture("semicolon.csv")
    out = published(lapor.ingest(), read=2, loaded=2)
    assert out.quarantine == []
    rows = history_rows(lapor, ["LPR-09011", "LPR-09012"])
    assert rows["LPR-09011"]["channel"] == "web"
    assert rows["LPR-09011"]["title"] == "Jalan rusak 9011"


def test_wrong_fixed_delimiter_fails_the_source_naming_the_file(tmp_path, monkeypatch):
    """The whole header line is one column, none of the mapping's: the source fails and says
    where and why, instead of rows quarantined under a key made of the header line."""
    lapor = Lapor(tmp_path, monkeypatch, options={"delimiter": ","})
    lapor.drop_fixture("semicolon.csv")
    out = failed(lapor.ingest(), "file semicolon.csv: none of the 1 columns is one the mapping")
    assert "or the delimiter wrong?" in out.run["error"]
    assert out.run["rows_read"] == 0 and out.quarantine == []


def test_a_file_without_its_header_row_fails_before_its_first_row_becomes_column_names(lapor):
    """Read as a header, the first row's values (a NIK, a name) would be the JSON keys of every
    quarantined row."""
    pad(lapor, 5)
    rows = [good_row(9001), good_row(9002)]
    lines = csv_text(rows).splitlines()[1:]  # no header
    lapor.drop_text("01_headerless.csv", "\n".join(lines) + "\n")
    out = failed(lapor.ingest(), "file 01_headerless.csv: none of the 18 columns")
    assert "is the header row missing" in out.run["error"]
    assert "1105010101909001" not in out.run["error"] and "Pelapor 9001" not in out.run["error"]
    assert out.run["rows_read"] == 5 and len(out.quarantine) == 5


def test_mixed_encodings_keep_every_row(lapor):
    """A file with one cp1252 line and one UTF-8 line: both rows load and it is noted."""
    pad(lapor)
    lapor.drop_fixture("mixed_encoding.csv")
    out = published(lapor.ingest(), read=PAD + 2, loaded=PAD + 2)
    assert "mixed_encoding.csv: mixed (utf-8 and cp1252 lines)" in out.run["error"]
    rows = history_rows(lapor, ["LPR-09021", "LPR-09022"])
    assert rows["LPR-09021"]["title"] == "Kafé liar di trotoar"


def test_mixed_encodings_keep_utf8_lines_intact(lapor):
    pad(lapor)
    lapor.drop_fixture("mixed_encoding.csv")
    published(lapor.ingest(), read=PAD + 2, loaded=PAD + 2)
    rows = history_rows(lapor, ["LPR-09022"])
    assert rows["LPR-09022"]["title"] == "Pedagang kafé menutup jalan"


def test_bom_is_not_part_of_the_first_column(lapor):
    lapor.drop_fixture("bom.csv")
    out = published(lapor.ingest(), read=2, loaded=2)
    assert set(history_rows(lapor, ["LPR-09031", "LPR-09032"])) == {"LPR-09031", "LPR-09032"}
    assert out.quarantine == []


def test_duplicated_header_rows_are_dropped_and_noted(lapor):
    lapor.drop_fixture("duplicated_header.csv")
    out = published(lapor.ingest(), read=3, loaded=3)
    assert "duplicated_header.csv: dropped 2 repeated header rows" in out.run["error"]
    assert out.quarantine == []


def test_extra_columns_and_fields_are_kept_in_raw(lapor):
    lapor.drop_fixture("extra_columns.csv")
    out = published(lapor.ingest(), read=2, loaded=2)
    assert "extra_columns.csv: 1 rows had more fields than the header (_extra)" in out.run["error"]
    raw = lapor.query(
        "select * from raw where source_id = ? and day = ? order by _row", [SOURCE_ID, DAY]
    )
    assert raw[0]["Catatan Internal"] == "cek ulang"
    assert json.loads(raw[1]["_extra"]) == ["lebih", "lagi"]


def test_missing_optional_columns_load_as_null(lapor):
    lapor.drop_fixture("missing_optional_columns.csv")
    out = published(lapor.ingest(), read=2, loaded=2)
    assert out.quarantine == []
    row = history_rows(lapor, ["LPR-09061"])["LPR-09061"]
    assert (row["category"], row["rating"], row["berkadar_pengawasan"]) == (None, None, None)


def test_missing_required_column_rejects_the_day_naming_it(lapor):
    lapor.drop_fixture("missing_required_column.csv")
    out = lapor.ingest()
    reconcile(out)
    assert out.error is None
    assert out.run["status"] == "rejected"
    assert (out.run["rows_read"], out.run["rows_quarantined"]) == (5, 5)
    assert out.history == 0
    for q in out.quarantine:
        assert q["reasons"][0] == "missing required column 'Saluran' for channel"
        assert q["reasons"][-1].startswith("day rejected: ")


def test_missing_required_column_is_named_in_the_run_error(lapor):
    lapor.drop_fixture("missing_required_column.csv")
    out = lapor.ingest()
    assert out.run["status"] == "rejected"
    assert "Saluran" in out.run["error"]


def test_rejected_day_keeps_the_connector_notes(lapor):
    lapor.drop_fixture("empty.csv")
    lapor.drop_fixture("missing_required_column.csv")
    out = lapor.ingest()
    reconcile(out)
    assert out.run["status"] == "rejected"
    assert "empty.csv: empty, 0 rows" in out.run["error"]


def test_renamed_required_column_rejects_the_day_naming_it(lapor):
    lapor.drop_fixture("renamed_columns.csv")
    out = lapor.ingest()
    reconcile(out)
    assert out.run["status"] == "rejected"
    assert out.run["rows_quarantined"] == 2
    for q in out.quarantine:
        assert "missing required column 'Tanggal Lapor' for submitted_at" in q["reasons"]
        assert raw_of(q)["Tgl Lapor"]  # the renamed column's values are kept


# -- values ------------------------------------------------------------------------------------


def test_quoted_newlines_stay_inside_the_text(lapor):
    lapor.drop_fixture("quoted_newlines.csv")
    out = published(lapor.ingest(), read=3, loaded=3)
    rows = history_rows(lapor, ["LPR-09091", "LPR-09092"])
    assert rows["LPR-09091"]["body"] == 'Baris satu\nbaris dua, dengan "kutip"'
    assert rows["LPR-09092"]["body"] == "Windows\r\nbaris\r\n\r\nkosong di tengah"
    assert out.quarantine == []


def test_thousand_separators(lapor):
    pad(lapor)
    lapor.drop_fixture("thousands.csv")
    out = published(lapor.ingest(), read=PAD + 3, loaded=PAD + 2)
    assert out.reasons_of("LPR-09101") == [
        "rating '1.000' has a thousands separator; expected an integer 1-5"
    ]
    rows = history_rows(lapor, ["1.234", "LPR-09103"])
    assert set(rows) == {"1.234", "LPR-09103"}  # an id is text: kept exactly, never a number
    assert rows["LPR-09103"]["rating"] == 4


def test_three_date_formats_in_one_file(lapor):
    pad(lapor)
    lapor.drop_fixture("three_date_formats.csv")
    out = published(lapor.ingest(), read=PAD + 4, loaded=PAD + 3)
    assert out.reasons_of("LPR-09114") == ["unparseable updated_at '2026/10/05 09:15'"]
    rows = history_rows(lapor, ["LPR-09111", "LPR-09112", "LPR-09113"])
    instants = {r["updated_at"] for r in rows.values()}
    assert len(rows) == 3 and len(instants) == 1
    (instant,) = instants
    assert instant == datetime.fromisoformat("2026-10-05T02:15:00+00:00")


def test_timestamps_from_the_future(lapor):
    pad(lapor)
    lapor.drop_fixture("future_timestamps.csv")
    out = published(lapor.ingest(), read=PAD + 2, loaded=PAD)
    assert out.reasons_of("LPR-09121") == ["updated_at after as_of"]
    assert out.reasons_of("LPR-09122") == ["submitted_at after as_of"]


def test_dates_of_year_zero_are_quarantined_not_loaded(lapor):
    """pandas parses year 0; the warehouse would hold it where Python, and so every reader's
    datetime conversion, cannot. Such a date is unparseable, whichever format read it."""
    pad(lapor)
    rows = [
        good_row(9131, **{"Tanggal Lapor": "0000-01-01 10:00"}),
        good_row(9132, **{"Tanggal Lapor": "1 Januari 0000"}),
        good_row(9133, **{"Tanggal Lapor": "0001-01-01 00:00"}),  # WIB: year 0 in UTC
        good_row(9134, **{"Tanggal Lapor": "2 Januari 0001"}),  # the earliest that loads
    ]
    lapor.drop_text("year_zero.csv", csv_text(rows))
    out = published(lapor.ingest(), read=PAD + 4, loaded=PAD + 1)
    assert out.reasons_of("LPR-09131") == ["unparseable submitted_at '0000-01-01 10:00'"]
    assert out.reasons_of("LPR-09132") == ["unparseable submitted_at '1 Januari 0000'"]
    assert out.reasons_of("LPR-09133") == ["unparseable submitted_at '0001-01-01 00:00'"]
    (row,) = history_rows(lapor, ["LPR-09134"]).values()
    assert row["submitted_at"].year == 1


def test_ratings_out_of_range_and_in_words(lapor):
    pad(lapor)
    lapor.drop_fixture("ratings.csv")
    out = published(lapor.ingest(), read=PAD + 4, loaded=PAD + 1)
    assert out.reasons_of("LPR-09131") == ["rating '0' is not an integer 1-5"]
    assert out.reasons_of("LPR-09132") == ["rating '6' is not an integer 1-5"]
    assert out.reasons_of("LPR-09133") == ["rating 'lima' is not an integer 1-5"]
    assert history_rows(lapor, ["LPR-09134"])["LPR-09134"]["rating"] == 5


def test_unknown_region_codes(lapor):
    pad(lapor)
    lapor.drop_fixture("unknown_regions.csv")
    out = published(lapor.ingest(), read=PAD + 3, loaded=PAD + 1)
    assert out.reasons_of("LPR-09141") == ["region_code '99.99' is not in regions.csv"]
    assert out.reasons_of("LPR-09142") == ["region_code '11.99' is not in regions.csv"]
    assert history_rows(lapor, ["LPR-09143"])["LPR-09143"]["region_code"] == "11.05"


def test_nul_bytes_are_removed_and_noted(lapor):
    lapor.drop_fixture("nul_bytes.csv")
    out = published(lapor.ingest(), read=2, loaded=2)
    assert "nul_bytes.csv: removed 3 NUL bytes" in out.run["error"]
    assert history_rows(lapor, ["LPR-09151"])["LPR-09151"]["title"] == "Lampu jalan mati"


def test_ten_megabyte_complaint_text(lapor):
    """A 10 MB complaint text (under the reader's 16 MB field limit) is published whole."""
    body = ("Jalan berlubang di depan sekolah. " * 320_000)[: 10 * 1024 * 1024]
    assert body == body.strip()
    lapor.drop_text("big.csv", csv_text([good_row(9171, **{"Isi Laporan": body}), good_row(9172)]))
    assert (lapor.folder() / "big.csv").stat().st_size > 10 * 1024 * 1024
    out = published(lapor.ingest(), read=2, loaded=2)
    assert out.quarantine == []
    loaded = lapor.query(
        "select length(body) as n, md5(body) as h from complaint_history "
        "where complaint_id = 'LPR-09171'"
    )
    assert loaded == [{"n": len(body), "h": hashlib.md5(body.encode()).hexdigest()}]


# -- spreadsheets and JSON ---------------------------------------------------------------------


def _xlsx(path, sheets: dict[str, list[list]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


def _sheet_rows(rows: list[dict]) -> list[list]:
    return [HEADER] + [[r.get(c) for c in HEADER] for r in rows]


def test_xlsx_with_two_sheets_of_data(lapor):
    _xlsx(
        lapor.folder() / "ekspor.xlsx",
        {
            "Oktober minggu 1": _sheet_rows([good_row(9181), good_row(9182)]),
            "Oktober minggu 2": _sheet_rows([good_row(9183, **{"Nilai": 4})]),
        },
    )
    out = published(lapor.ingest(), read=3, loaded=3)
    rows = history_rows(lapor, ["LPR-09181", "LPR-09182", "LPR-09183"])
    assert len(rows) == 3 and rows["LPR-09183"]["rating"] == 4
    assert out.quarantine == []


def test_xlsx_second_sheet_with_another_header_is_noted(lapor):
    _xlsx(
        lapor.folder() / "ekspor.xlsx",
        {
            "Data": _sheet_rows([good_row(9191), good_row(9192)]),
            "Ringkasan": [["Status", "Jumlah"], ["BARU", 2]],
        },
    )
    out = published(lapor.ingest(), read=2, loaded=2)
    assert (
        "sheet 'Ringkasan' skipped: its header differs from the first sheet's" in (out.run["error"])
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "not_a_list.json",
            "file not_a_list.json is unreadable: 'data' must be a list of objects, "
            "found a JSON dict",
        ),
        ("scalar.json", "file scalar.json is unreadable: expected a list of objects"),
        (
            "list_of_numbers.json",
            "file list_of_numbers.json is unreadable: element 0 is a JSON int, not an object",
        ),
    ],
)
def test_json_file_that_is_not_a_list_fails_the_source(lapor, name, message):
    lapor.drop_fixture(name)
    out = failed(lapor.ingest(), message)
    assert out.run["rows_read"] == 0
    assert out.history == 0 and out.quarantine == []


def test_unreadable_file_after_good_rows_reconciles(lapor):
    """A good file is read, then the second one fails the source: the failed run's counts must
    still add up (rows_read = rows_loaded + rows_quarantined)."""
    pad(lapor, 5)
    lapor.drop_fixture("not_a_list.json")
    out = lapor.ingest()
    assert out.run["status"] == "failed"
    assert "file not_a_list.json is unreadable" in out.run["error"]
    reconcile(out)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("_row", "a column named '_row' is the pipeline's own row number"),
        ("_file", "column names repeat: '_file'"),
    ],
)
def test_a_source_column_with_a_reserved_name_fails_the_source_clearly(lapor, column, message):
    """Not a crash with nothing recorded: a failed run that names the column, and the rows read
    before it in quarantine."""
    pad(lapor, 5)
    rows = [good_row(9001, **{column: "7"}), good_row(9002, **{column: "7"})]
    lapor.drop_text("01_reserved.csv", csv_text(rows, HEADER + [column]))
    out = failed(lapor.ingest(), message)
    assert out.run["rows_read"] == 5 and len(out.quarantine) == 5


def test_quarantine_masks_contact_details_a_shifted_row_put_anywhere(lapor):
    """An unquoted comma shifts a row's cells: the phone number lands in Status, the e-mail
    address in the cells past the header. Quarantine keeps the row and its reasons, masked."""
    pad(lapor)
    row = good_row(9001)
    cells = [row[h] or "" for h in HEADER]
    at = HEADER.index("Status")
    cells[at:at] = ["0812-3456-7890", "budi@mail.co.id"]  # two cells too many from here on
    lapor.drop_text("01_shifted.csv", csv_text([]) + ",".join(cells) + "\n")
    out = published(lapor.ingest(), read=PAD + 1, loaded=PAD)
    (q,) = out.quarantine
    text = q["raw"] + " ".join(q["reasons"])
    assert "3456" not in text and "budi@" not in text, text
    assert "[TELEPON]" in text and "[EMAIL]" in text, text
