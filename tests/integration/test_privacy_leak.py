"""Nothing identifying leaves the extract step: the whole pipeline on the small registry.

The simulator plants reporters' NIKs, names, phone numbers and e-mail addresses in every source
(columns, and NIKs/phones inside complaint texts). They are read back from the sources as the
simulator wrote them (the regional SQLite DB, the API's api.sqlite store, the drop files), then
every source-day is ingested, the metrics computed, October's reports built and the Data Docs
rendered, in-process, with every log record captured. ``leakscan.scan_paths`` must then find
none of those values in anything the pipeline wrote (warehouse, raw layer, quarantine, catalog,
outbox, GX results and Data Docs, state) or logged. ``rahasia`` text must not be in
complaint_current, and reports must carry no complaint text at all.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from complaints.config import INCLUDE_DIR

pytestmark = pytest.mark.slow

DAY1, DAY2 = date(2026, 10, 30), date(2026, 10, 31)  # Friday, and the last day of October
SEED = 11
TOKEN = "leak-test-token-5e1f0c"
PERSONAL = ("reporter_nik", "reporter_name", "reporter_phone", "reporter_email")


def _drop_file(path: Path, fmt) -> pd.DataFrame:
    if fmt.ext in ("csv", "tsv"):
        return pd.read_csv(path, sep=fmt.delimiter, encoding=fmt.encoding, dtype=str,
                           keep_default_na=False)  # fmt: skip
    if fmt.ext == "xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    if fmt.ext == "json":
        return pd.DataFrame(json.loads(path.read_text(encoding=fmt.encoding)), dtype=str)
    lines = path.read_text(encoding=fmt.encoding).splitlines()
    return pd.DataFrame([json.loads(line) for line in lines if line.strip()], dtype=str)


def planted_values(settings, sources) -> dict[str, set[str]]:
    """The personal values in the sources, read back from what the simulator wrote."""
    from complaints.simulate.api_server import api_path
    from complaints.simulate.exports import COLUMNS
    from complaints.simulate.files import file_format

    found: dict[str, set[str]] = {f: set() for f in PERSONAL}

    def add(field: str, value) -> None:
        if value is not None and str(value).strip() and str(value) != "nan":
            found[field].add(str(value).strip())

    names = COLUMNS["simpel_db"]
    db = settings.sim_sql_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as con:
        rows = con.execute(
            f"SELECT {', '.join(names[f] for f in PERSONAL)} FROM aduan"  # noqa: S608
        ).fetchall()
    assert rows, "the regional database has rows"
    for row in rows:
        for field, value in zip(PERSONAL, row, strict=True):
            add(field, value)

    names = COLUMNS["lapor_api_v1"]
    with sqlite3.connect(api_path(settings)) as con:
        records = [json.loads(j) for (j,) in con.execute("SELECT json FROM versions")]
    assert records, "the API store has versions"
    for record in records:
        for field in PERSONAL:
            add(field, record.get(names[field]))

    names = COLUMNS["ekspor_berkas"]
    files = 0
    for source in sources:
        if source.connector.kind != "file":
            continue
        fmt = file_format(source)
        for path in sorted((settings.drop_dir / source.id).rglob("*.*")):
            frame = _drop_file(path, fmt)
            files += 1
            for field in PERSONAL:
                for value in frame.get(names[field], []):
                    add(field, value)
    assert files >= 4, "two file sources, two days"
    return found


@pytest.fixture
def pipeline_run(settings, monkeypatch, tmp_path, caplog):
    """Simulate, ingest every source-day, metrics, reports, Data Docs; logs captured."""
    from complaints.config import Settings
    from complaints.daily import build_period_reports, closed_periods, compute_day_metrics
    from complaints.orchestration.local import local_connections
    from complaints.pipeline import ingest_source, registry_for
    from complaints.quality import build_data_docs
    from complaints.simulate import serve_api, simulate

    monkeypatch.setenv("COMPLAINTS_REGISTRY", str(INCLUDE_DIR / "registry" / "sources.small.yaml"))
    monkeypatch.delenv("COMPLAINTS_HASH_KEY", raising=False)
    settings = Settings.from_env()
    registry = registry_for(settings)
    simulate(settings, registry.sources, DAY1, DAY2, seed=SEED, scale=0.5)
    planted = planted_values(settings, registry.sources)

    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    handler = logging.FileHandler(log_dir / "pipeline.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    runs = []
    try:
        with serve_api(settings, token=TOKEN) as api:
            for key, value in local_connections(settings, api.base_url, TOKEN).items():
                monkeypatch.setenv(key, value)
            for day in (DAY1, DAY2):
                for source in registry.sources:
                    runs.append(ingest_source(source.id, day, settings=settings))
                compute_day_metrics(day, settings=settings)
            periods = closed_periods(DAY2)
            assert ("month", date(2026, 10, 1)) in periods
            reports = [build_period_reports(p, start, settings=settings) for p, start in periods]
            build_data_docs(settings.data_dir / "gx")
    finally:
        root.removeHandler(handler)
        handler.close()
    (log_dir / "caplog.txt").write_text(caplog.text, encoding="utf-8")
    return settings, registry, planted, runs, reports, log_dir


def test_nothing_identifying_leaves_the_extract_step(pipeline_run):
    """One pipeline run (it takes minutes), three checks."""
    check_no_planted_value_reaches_any_output_or_log(pipeline_run)
    check_rahasia_text_is_not_in_complaint_current(pipeline_run)
    check_reports_and_overdue_lists_carry_no_complaint_text(pipeline_run)


def check_no_planted_value_reaches_any_output_or_log(pipeline_run):
    from complaints.leakscan import scan_paths

    settings, registry, planted, runs, reports, log_dir = pipeline_run
    # the run did real work: every source-day published, reports and Data Docs exist
    assert len(runs) == 2 * len(registry.sources)
    statuses = [r["status"] for r in runs]
    assert set(statuses) <= {"published", "rejected"}, runs
    assert "published" in statuses  # (a rejected day's rows all go to quarantine: scanned too)
    assert sum(r["rows_loaded"] for r in runs) > 0
    assert sum(r["rows_quarantined"] for r in runs) > 0, "planted damage reached quarantine"
    assert reports and reports[0]["reports"] > 1
    assert any((settings.data_dir / "gx").rglob("index.html"))
    assert (log_dir / "caplog.txt").stat().st_size > 0

    # enough of each kind planted to mean something
    for field in PERSONAL:
        assert len(planted[field]) >= 20, (field, len(planted[field]))
    assert all(len(n) == 16 and n.isdigit() for n in planted["reporter_nik"])
    # free text carried personal values too (texts.py: ~8% phones, ~4% NIKs in bodies)
    written = [p for p in settings.data_dir.iterdir() if p.name != settings.sources_dir.name]
    assert {p.name for p in written} >= {"warehouse", "outbox", "gx", "state"}

    needles = sorted(set().union(*planted.values()))
    started = time.perf_counter()
    leaks = scan_paths([*written, log_dir], needles)
    print(f"scanned for {len(needles)} values in {time.perf_counter() - started:.1f}s")
    assert leaks == [], "\n".join(str(leak) for leak in leaks[:30])

    # the scan is not blind: the same values are found in the sources they came from
    assert scan_paths([settings.sources_dir], sorted(planted["reporter_nik"])[:5])


def check_rahasia_text_is_not_in_complaint_current(pipeline_run):
    from complaints.warehouse import Warehouse

    settings, *_ = pipeline_run
    con = Warehouse(settings).connect()
    try:
        rahasia, with_text, public_text = con.execute(
            "SELECT count(*) FILTER (WHERE is_rahasia), "
            "count(*) FILTER (WHERE is_rahasia AND (title IS NOT NULL OR body IS NOT NULL)), "
            "count(*) FILTER (WHERE NOT is_rahasia AND body IS NOT NULL) "
            "FROM complaint_current"
        ).fetchone()
    finally:
        con.close()
    assert rahasia > 0, "the simulation has rahasia complaints"
    assert public_text > 0, "the check would see text if it were there"
    assert with_text == 0
    # the stored Parquet files, not only the catalog's view
    files = sorted(Path(settings.warehouse, "complaint_current").rglob("*.parquet"))
    assert files
    for path in files:
        frame = pq.read_table(path, columns=["is_rahasia", "title", "body"]).to_pandas()
        secret = frame[frame["is_rahasia"].fillna(False).astype(bool)]
        assert secret["title"].isna().all() and secret["body"].isna().all(), path


def check_reports_and_overdue_lists_carry_no_complaint_text(pipeline_run):
    from complaints.leakscan import scan_paths
    from complaints.reports.data import OVERDUE_COLUMNS
    from complaints.simulate.texts import CLOSINGS, OPENINGS, TITLES
    from complaints.warehouse import Warehouse

    settings, *_ = pipeline_run
    con = Warehouse(settings).connect()
    try:
        overdue_cols = {c[0] for c in con.execute("DESCRIBE overdue_complaints").fetchall()}
        overdue = con.execute("SELECT count(*) FROM overdue_complaints").fetchone()[0]
    finally:
        con.close()
    assert not overdue_cols & {"title", "body", "reporter_key", *PERSONAL}
    assert set(OVERDUE_COLUMNS) <= overdue_cols
    assert not set(OVERDUE_COLUMNS) & {"title", "body", "reporter_key"}

    workbooks = sorted(settings.outbox.rglob("*.xlsx"))
    assert workbooks
    sheets = 0
    for path in workbooks:
        wb = load_workbook(path, read_only=True)
        try:
            if "Tunggakan" in wb.sheetnames:
                sheets += 1
                headers = next(wb["Tunggakan"].iter_rows(max_row=1, values_only=True))
                assert len([h for h in headers if h]) == len(OVERDUE_COLUMNS), (path, headers)
        finally:
            wb.close()
    assert sheets > 0 and overdue >= 0

    # complaint texts are built from these phrases; no report (PDF, XLSX, index) holds one
    phrases = [t for ts in TITLES.values() for t in ts] + list(OPENINGS) + list(CLOSINGS)
    leaks = scan_paths([settings.outbox], phrases)
    assert leaks == [], "\n".join(str(leak) for leak in leaks[:30])
