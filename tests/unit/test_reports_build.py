"""Institution and national reports: the PDF and XLSX carry the input metrics, Indonesian-style,
with no personal data and no live formulas; the outbox index lists every file."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from complaints.reports import build_institution_report, build_reports, data, write_index
from complaints.reports.data import OVERDUE_COLUMNS
from complaints.reports.national import load_national
from complaints.reports.sample import default_institutions, register, sample_frames

PERIOD, START = "month", date(2026, 10, 1)
EVIL = '=HYPERLINK("http://evil.example/x","klik")'


def _institutions():
    insts = default_institutions(6)
    insts[5] = {**insts[5], "institution_id": "evil", "name": EVIL, "level": "provinsi"}
    return insts


def _frames():
    frames = sample_frames(institutions=_institutions(), period=PERIOD, period_start=START)
    im = frames["institution_metrics"]
    row = (im.institution_id == "dukcapil") & (im.period_start == START)
    im.loc[row, ["total", "received", "archived", "forwarded"]] = [1000, 10, 20, 970]
    im.loc[row, ["verified", "in_process", "followed_up", "closed"]] = [22, 26, 500, 422]
    im.loc[row, ["followed_up_pct", "not_followed_up_pct", "in_process_pct"]] = [95.07, 2.25, 2.68]
    im.loc[row, ["rating_avg", "rating_count", "rating_smoothed"]] = [4.22, 1234, 4.18]
    im.loc[row, ["sla_completion_met", "sla_completion_breached", "sla_completion_pending"]] = [
        801, 89, 80,
    ]  # fmt: skip
    im.loc[row, "sla_completion_pct"] = 90.0
    im.loc[row, ["sla_verification_met", "sla_verification_breached"]] = [700, 300]
    im.loc[row, "sla_verification_pct"] = 70.0
    # a personal-data column in the view must never reach a report
    frames["overdue_complaints"]["reporter_name"] = "Budi Santoso"
    return frames


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    register(c, _frames())
    return c


@pytest.fixture(scope="module")
def built(con, tmp_path_factory):
    outbox = tmp_path_factory.mktemp("outbox")
    return outbox, build_reports(con, PERIOD, START, outbox)


def _pdf_text(path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def _by_id(built, iid):
    return next(r for r in built[1] if r.institution_id == iid)


def test_layout_and_every_institution_with_complaints(built):
    outbox, reports = built
    ids = {r.institution_id for r in reports}
    assert ids == {i["institution_id"] for i in _institutions()} | {"nasional"}
    r = _by_id(built, "dukcapil")
    assert r.pdf == outbox / "month/2026-10-01/dukcapil/dukcapil_month_2026-10-01.pdf"
    assert r.xlsx == outbox / "month/2026-10-01/dukcapil/dukcapil_month_2026-10-01.xlsx"
    assert (outbox / "month/2026-10-01/nasional/nasional_month_2026-10-01.pdf").exists()


def test_pdf_headline_and_figures_match_the_metrics(built):
    text = _pdf_text(_by_id(built, "dukcapil").pdf)
    flat = re.sub(r"\s+", " ", text)
    assert "SP4N-LAPOR! — Laporan Kinerja Pengelolaan Pengaduan" in flat
    assert "Ditjen Kependudukan dan Pencatatan Sipil" in flat
    assert "Oktober 2026" in flat
    assert (
        "95,07% ditindaklanjuti, 2,25% belum ditindaklanjuti, 2,68% dalam proses; "
        "rating 4,22 dari 5" in flat
    )
    assert "1.000" in flat and "1.234 penilaian" in flat and "4,18" in flat
    # the interval follows the count of ratings it comes from, apart from the smoothed score
    assert re.search(r"1\.234 penilaian, rentang 95% \d,\d\d–\d,\d\d · skor terkoreksi 4,18", flat)
    assert "★" in text  # stars drawn
    assert "801 89 80 90,00% memenuhi target" in flat  # completion SLA row
    assert "700 300" in flat and "70,00% di bawah target" in flat
    assert re.search(r"Halaman 1 dari \d", flat)
    assert "Dibuat " in flat
    assert "hari tanpa data terbit" in flat or "setiap hari telah terbit" in flat


def test_a_period_s_reports_share_one_read_of_the_runs_and_get_what_each_alone_gets(
    con, monkeypatch
):
    """``build_reports`` passes one ``PeriodShared`` to every report: the sources' completeness
    is read once for the period, and each report's data is what it is alone."""
    ids = [i["institution_id"] for i in _institutions()] + ["no-such-sources"]
    alone = {i: data.load_institution(con, i, PERIOD, START) for i in ids[:-1]}
    reads = []
    real = data.completeness
    monkeypatch.setattr(data, "completeness", lambda *a, **k: reads.append(a) or real(*a, **k))
    shared = data.PeriodShared(con, PERIOD, START)
    for i, d in alone.items():
        together = data.load_institution(con, i, PERIOD, START, shared)
        assert (together.completeness, together.rank_of) == (d.completeness, d.rank_of)
    national = load_national(con, PERIOD, START, shared)  # the national report's silent sources
    assert len(reads) == 1 and reads[0][-1] is not None  # one as-of date, every source
    assert set(national["silent"]["source_id"]) == {"bpjs-kes", "dukcapil"}
    # the sample's institutions differ, so a slice of another's sources would show
    assert alone["bpjs-kes"].completeness["days_missing"] == 1  # silent for a day
    assert alone["dukcapil"].completeness["days_failed"] == 2
    assert alone["kemendagri"].completeness["days_missing"] == 0
    assert shared.completeness(reads[0][-1], ids[-1]).empty


def test_week_period_label(con, tmp_path):
    frames = sample_frames(
        institutions=default_institutions(2), period="week", period_start=date(2026, 10, 26)
    )
    c = duckdb.connect()
    register(c, frames)
    r = build_institution_report(c, "kemendagri", "week", date(2026, 10, 26), tmp_path)
    assert "Minggu 44, 26 Okt - 1 Nov 2026" in _pdf_text(r.pdf)
    assert r.pdf.name == "kemendagri_week_2026-10-26.pdf"


def test_xlsx_has_the_same_figures(built):
    wb = load_workbook(_by_id(built, "dukcapil").xlsx)
    assert wb.sheetnames == ["Ringkasan", "SLA", "Tren", "Tunggakan"]
    ws = wb["Ringkasan"]
    values = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(1, ws.max_row + 1)}
    assert values["Instansi"].value == "Ditjen Kependudukan dan Pencatatan Sipil"
    assert values["Pengaduan masuk"].value == 1000
    assert values["Ditindaklanjuti"].value == pytest.approx(0.9507)
    assert values["Ditindaklanjuti"].number_format == "0.00%"
    assert values["Rating rata-rata (1-5)"].value == pytest.approx(4.22)
    labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    at = labels.index("Rating rata-rata (1-5)")
    assert labels[at + 2 : at + 5] == [
        "Rentang keyakinan 95% rating rata-rata, bawah",
        "Rentang keyakinan 95% rating rata-rata, atas",
        "Skor rating terkoreksi",
    ]
    assert values["Ringkasan"].value.startswith("95,07% ditindaklanjuti")
    assert ws.freeze_panes is not None
    sla = wb["SLA"]
    assert sla.freeze_panes == "A2"
    rows = {sla.cell(r, 1).value: [c.value for c in sla[r]] for r in range(2, sla.max_row + 1)}
    assert rows["Penyelesaian"][2:6] == [801, 89, 80, pytest.approx(0.9)]
    assert sla.cell(1, 1).font.bold
    assert wb["Tren"].max_row == 13  # header + 12 periods


def test_formula_injection_is_neutralised(built):
    r = _by_id(built, "evil")
    wb = load_workbook(r.xlsx)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    assert wb["Ringkasan"]["B5"].value == "'" + EVIL or any(
        c.value == "'" + EVIL for row in wb["Ringkasan"].iter_rows() for c in row
    )
    nat = load_workbook(_by_id(built, "nasional").xlsx)
    for ws in nat.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
    # the PDF shows the name as text (escaped HTML, no link)
    assert "HYPERLINK" in _pdf_text(r.pdf)


def test_overdue_table_has_no_personal_data(built, con):
    r = _by_id(built, "dukcapil")
    ws = load_workbook(r.xlsx)["Tunggakan"]
    headers = [c.value for c in ws[1]]
    assert headers == ["No. pelacakan", "Klasifikasi", "Tahap", "Batas waktu", "Hari terlambat"]
    everything = " ".join(
        str(c.value) for w in load_workbook(r.xlsx).worksheets for row in w.iter_rows()
        for c in row if c.value is not None
    )  # fmt: skip
    assert "Budi" not in everything
    assert "Budi" not in _pdf_text(r.pdf)
    assert set(OVERDUE_COLUMNS) <= {
        "complaint_id", "classification", "milestone", "deadline", "days_overdue"
    }  # fmt: skip
    ids = con.execute(
        "SELECT complaint_id FROM overdue_complaints WHERE institution_id = 'dukcapil'"
    ).fetchall()
    col = [ws.cell(i, 1).value for i in range(2, ws.max_row + 1)]
    assert sorted(col) == sorted(i for (i,) in ids)
    pdf_text = _pdf_text(r.pdf)
    assert all(i in pdf_text for (i,) in ids)


def test_national_report(built, con):
    r = _by_id(built, "nasional")
    flat = re.sub(r"\s+", " ", _pdf_text(r.pdf))
    assert "Peringkat: Kementerian, lembaga dan unit kerja" in flat
    assert "Peringkat: Pemerintah provinsi" in flat
    assert "Sebaran rating instansi" in flat
    assert "Pelanggaran SLA terbanyak" in flat
    assert "Porsi ditindaklanjuti per provinsi" in flat
    # sample: dukcapil had two failed days, bpjs-kes one silent day
    assert "Sumber yang tidak melapor" in flat and "bpjs-kes" in flat and "dukcapil" in flat
    wb = load_workbook(r.xlsx)
    assert {"Ringkasan", "Kementerian", "Provinsi", "Kab-Kota", "SLA", "Sumber"} <= set(
        wb.sheetnames
    )
    levels = {wb["Kementerian"].cell(i, 4).value for i in range(2, wb["Kementerian"].max_row + 1)}
    assert levels == {"kementerian", "lembaga", "unit"}


def test_index_lists_every_file(built):
    outbox, reports = built
    html = (outbox / "index.html").read_text(encoding="utf-8")
    for r in reports:
        assert r.pdf.relative_to(outbox).as_posix() in html
        assert r.xlsx.relative_to(outbox).as_posix() in html
    assert "Oktober 2026" in html
    assert "=HYPERLINK(&#34;" in html or "=HYPERLINK(&quot;" in html  # escaped
    # regenerated: a removed report disappears
    (outbox / "month/2026-10-01/evil/meta.json").rename(outbox / "evil-meta.bak")
    try:
        assert "evil_month" not in write_index(outbox).read_text(encoding="utf-8")
    finally:
        (outbox / "evil-meta.bak").rename(outbox / "month/2026-10-01/evil/meta.json")
        write_index(outbox)


def test_unknown_institution_or_period_is_an_error(con, tmp_path):
    with pytest.raises(LookupError):
        build_institution_report(con, "nope", PERIOD, START, tmp_path)
    with pytest.raises(ValueError):
        build_institution_report(con, "dukcapil", "day", START, tmp_path)


def test_overdue_list_is_the_snapshot_of_the_reports_as_of_day():
    """overdue_complaints keeps one snapshot per as_of day; a report shows exactly one."""
    import duckdb

    from complaints.reports import data

    con = duckdb.connect()
    con.execute(
        "create table overdue_complaints as select * from (values "
        "('A-1', 'i1', 'pengaduan', 'forwarding', date '2026-10-29', 1, date '2026-10-30'),"
        "('A-1', 'i1', 'pengaduan', 'forwarding', date '2026-10-29', 2, date '2026-10-31'),"
        "('A-2', 'i1', 'aspirasi', 'completion', date '2026-10-30', 1, date '2026-10-31'),"
        "('A-1', 'i1', 'pengaduan', 'forwarding', date '2026-10-29', 3, date '2026-11-02'),"
        "('B-1', 'i2', 'aspirasi', 'completion', date '2026-10-30', 1, date '2026-11-03')"
        ") t(complaint_id, institution_id, classification, milestone, deadline, days_overdue,"
        " as_of)"
    )
    rows = data.overdue(con, "i1", date(2026, 10, 31))
    assert rows[["complaint_id", "days_overdue"]].values.tolist() == [["A-1", 2], ["A-2", 1]]
    assert data.overdue(con, "i1", date(2026, 11, 2))["days_overdue"].tolist() == [3]
    # nothing overdue for i1 on 3 Nov (i2 has): its list is empty, not 2 Nov's
    assert data.overdue(con, "i1", date(2026, 11, 3)).empty
    assert data.overdue(con, "i1").empty  # without a date: the newest snapshot, 3 Nov
    assert data.overdue(con, "i2")["complaint_id"].tolist() == ["B-1"]


def test_league_tables_rank_as_rank_in_level_does():
    """Published smoothed rating, then followed-up share; equal in both: equal rank; no score
    last; other levels and institutions without complaints left out."""
    import pandas as pd

    from complaints.reports.national import _ranked

    inst = pd.DataFrame(
        {
            "name": ["A", "B", "C", "D", "E", "F", "G"],
            "level": ["kementerian", "lembaga", "unit", "kementerian", "lembaga", "kota", "unit"],
            "total": [5, 5, 5, 5, 5, 5, 0],
            "rating_smoothed": [3.03, 3.03, 3.03, 4.0, None, 5.0, 5.0],
            "followed_up_pct": [0.0, 100.0, 0.0, 50.0, 90.0, 10.0, 10.0],
        }
    )
    league = _ranked(inst, ("kementerian", "lembaga", "unit"))
    assert list(zip(league["name"], league["rank"], strict=True)) == [
        ("D", 1), ("B", 2), ("A", 3), ("C", 3), ("E", 5),
    ]  # fmt: skip
