"""One institution's report for one week or month: PDF + XLSX with the same figures."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from . import charts, data, pdf, xlsx
from . import formatting as f
from .data import InstitutionData, ReportFiles
from .xlsx import Col

#: rows of the overdue table in the PDF (the XLSX always has all of them)
PDF_OVERDUE_ROWS = 60
PERIOD_NOUN = {"week": "minggu", "month": "bulan"}


def report_dir(outbox: Path, period: str, period_start: date, report_id: str) -> Path:
    return Path(outbox) / period / period_start.isoformat() / report_id


def report_stem(report_id: str, period: str, period_start: date) -> str:
    return f"{report_id}_{period}_{period_start.isoformat()}"


def write_meta(folder: Path, **meta) -> None:
    """A small JSON beside the files, read by the outbox index."""
    (folder / "meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, default=str, indent=1), encoding="utf-8"
    )


def _overdue_rows(d: InstitutionData) -> list[dict]:
    rows = []
    for o in d.overdue.to_dict("records"):
        rows.append(
            {
                "complaint_id": o["complaint_id"],
                "classification": data.CLASSIFICATION_LABELS.get(
                    o["classification"], o["classification"]
                ),
                "milestone": data.MILESTONE_LABELS.get(o["milestone"], o["milestone"]),
                "deadline": o["deadline"],
                "days_overdue": o["days_overdue"],
            }
        )
    return rows


def _context(d: InstitutionData) -> dict:
    m = d.metrics
    as_of = d.completeness.get("as_of")
    overdue = _overdue_rows(d)
    return {
        "doc_title": f"Laporan kinerja {d.name} - {f.period_label(d.period, d.period_start)}",
        "name": d.name,
        "level_label": data.LEVEL_LABELS.get(d.level, d.level),
        "period_label": f.period_label(d.period, d.period_start),
        "as_of_label": f.fmt_date(as_of) if as_of else f.MISSING,
        "footer_note": "Sumber: SP4N-LAPOR!",
        "headline": f.headline(
            m.get("followed_up_pct"),
            m.get("not_followed_up_pct"),
            m.get("in_process_pct"),
            m.get("rating_avg"),
        ),
        "m": m,
        "rank": d.rank,
        "rank_of": d.rank_of,
        "sla": data.sla_rows(m),
        "target": data.SLA_TARGET_PCT,
        "trend_png": pdf.png_data_uri(charts.trend_chart(d.trend, d.period)),
        "trend_n": len(d.trend),
        "period_noun": PERIOD_NOUN.get(d.period, d.period),
        "overdue": overdue[:PDF_OVERDUE_ROWS],
        "overdue_all": overdue,
        "overdue_total": len(overdue),
        "completeness": d.completeness,
    }


def _summary_pairs(d: InstitutionData, ctx: dict) -> list[tuple[str, object, str | None]]:
    m = d.metrics
    c = d.completeness
    return [
        ("Instansi", d.name, None),
        ("Kode instansi", d.institution_id, None),
        ("Tingkat", ctx["level_label"], None),
        ("Periode", ctx["period_label"], None),
        ("Awal periode", d.period_start, xlsx.DATE),
        ("Akhir periode", d.period_end, xlsx.DATE),
        ("Data per", c.get("as_of"), xlsx.DATE),
        ("Ringkasan", ctx["headline"], None),
        ("Pengaduan masuk", m.get("total"), xlsx.INT),
        ("Diteruskan ke instansi", m.get("forwarded"), xlsx.INT),
        *xlsx.share_rows(m),
        # the interval belongs to the mean rating (share_rows' last but one row), not the score
        ("Rentang keyakinan 95% rating rata-rata, bawah", m.get("rating_ci_low"), xlsx.DEC2),
        ("Rentang keyakinan 95% rating rata-rata, atas", m.get("rating_ci_high"), xlsx.DEC2),
        ("Skor rating terkoreksi", m.get("rating_smoothed"), xlsx.DEC2),
        ("Peringkat di tingkatnya", d.rank, xlsx.INT),
        ("Jumlah instansi setingkat", d.rank_of, xlsx.INT),
        ("Median hari kerja sampai tindak lanjut", m.get("median_wd_to_followup"), xlsx.DEC1),
        ("Persentil 90 hari kerja sampai tindak lanjut", m.get("p90_wd_to_followup"), xlsx.DEC1),
        ("Pengaduan per 100.000 penduduk", m.get("complaints_per_100k"), xlsx.DEC2),
        ("Hari dalam periode", c.get("days"), xlsx.INT),
        ("Hari tanpa data terbit", c.get("days_missing"), xlsx.INT),
        ("Hari gagal diproses", c.get("days_failed"), xlsx.INT),
    ]


SLA_COLS = (
    Col("Tahap", "label", width=24),
    Col("Batas waktu", "deadline", width=48),
    Col("Tepat waktu", "met", xlsx.INT),
    Col("Terlambat", "breached", xlsx.INT),
    Col("Belum jatuh tempo", "pending", xlsx.INT),
    Col("Kepatuhan", "pct", xlsx.PCT, scale=0.01),
    Col("Target", "target", xlsx.PCT, scale=0.01),
    Col("Memenuhi target", "status", width=18),
)
TREND_COLS = (
    Col("Awal periode", "period_start", xlsx.DATE),
    Col("Periode", "label", width=30),
    Col("Pengaduan masuk", "total", xlsx.INT),
    Col("Diteruskan", "forwarded", xlsx.INT),
    Col("Ditindaklanjuti", "followed_up_pct", xlsx.PCT, scale=0.01),
    Col("Dalam proses", "in_process_pct", xlsx.PCT, scale=0.01),
    Col("Belum ditindaklanjuti", "not_followed_up_pct", xlsx.PCT, scale=0.01),
    Col("Rating rata-rata", "rating_avg", xlsx.DEC2),
    Col("Jumlah penilaian", "rating_count", xlsx.INT),
    Col("Skor terkoreksi", "rating_smoothed", xlsx.DEC2),
    Col("Kepatuhan SLA penyelesaian", "sla_completion_pct", xlsx.PCT, scale=0.01),
)
OVERDUE_COLS = (
    Col("No. pelacakan", "complaint_id", xlsx.TEXT, width=22),
    Col("Klasifikasi", "classification", width=22),
    Col("Tahap", "milestone", width=24),
    Col("Batas waktu", "deadline", xlsx.DATE),
    Col("Hari terlambat", "days_overdue", xlsx.INT),
)


def write_institution_xlsx(d: InstitutionData, ctx: dict, path: Path) -> Path:
    wb = xlsx.new_workbook("Ringkasan")
    title = "SP4N-LAPOR! \u2014 Laporan Kinerja Pengelolaan Pengaduan"
    subtitle = f"{d.name} \u2014 {ctx['period_label']}"
    ws = wb["Ringkasan"]
    xlsx.add_pairs(ws, _summary_pairs(d, ctx), xlsx.add_title(ws, title, subtitle))

    ws = wb.create_sheet("SLA")
    sla = [
        {**r, "status": "belum dinilai" if r["ok"] is None else ("ya" if r["ok"] else "tidak")}
        for r in ctx["sla"]
    ]
    xlsx.add_table(ws, SLA_COLS, sla)

    ws = wb.create_sheet("Tren")
    trend = [
        {**r, "label": f.period_label(d.period, r["period_start"])}
        for r in d.trend.to_dict("records")
    ]
    xlsx.add_table(ws, TREND_COLS, trend)

    ws = wb.create_sheet("Tunggakan")
    xlsx.add_table(ws, OVERDUE_COLS, ctx["overdue_all"])
    return xlsx.save(wb, path, ctx["doc_title"])


def build_institution_report(
    con,
    institution_id: str,
    period: str,
    period_start: date,
    outbox: Path,
    shared: data.PeriodShared | None = None,
) -> ReportFiles:
    """Build ``<outbox>/<period>/<start>/<id>/<id>_<period>_<start>.pdf`` and ``.xlsx``."""
    return render_institution_report(
        data.load_institution(con, institution_id, period, period_start, shared), outbox
    )


def render_institution_report(d: InstitutionData, outbox: Path) -> ReportFiles:
    """The rendering half (no database): picklable input, so it can run in a worker process."""
    institution_id, period, period_start = d.institution_id, d.period, d.period_start
    ctx = _context(d)
    folder = report_dir(outbox, period, period_start, institution_id)
    stem = report_stem(institution_id, period, period_start)
    pdf_path = pdf.write_pdf("institution.html", ctx, folder / f"{stem}.pdf")
    xlsx_path = write_institution_xlsx(d, ctx, folder / f"{stem}.xlsx")
    write_meta(
        folder,
        institution_id=institution_id,
        name=d.name,
        level=d.level,
        period=period,
        period_start=period_start.isoformat(),
        period_label=ctx["period_label"],
        headline=ctx["headline"],
        pdf=pdf_path.name,
        xlsx=xlsx_path.name,
    )
    return ReportFiles(pdf_path, xlsx_path, institution_id, period, period_start, d.name)
