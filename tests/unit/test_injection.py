"""Injection through source-controlled values: SQL, paths, spreadsheet formulas.

* SQL: registry ids and SQL option values that try injection are refused by the registry, and
  the sql connector binds the source id as a value (a real SQLite table, nothing extra read).
* Paths: names with ``..``, absolute names in a claims manifest, and symlinks (files, day
  folders, source folders) that lead out of the drop folder are never read.
* Formulas: text cells of the reports' XLSX that start with = + - @ are stored as text.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from types import SimpleNamespace as NS

import pytest
import sqlalchemy as sa
import yaml
from openpyxl import load_workbook

from complaints.connectors import SourceError, Window, open_connector
from complaints.registry import RegistryError, load_registry

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "include" / "registry" / "sources.small.yaml"
MAPPINGS = ROOT / "include" / "registry" / "mappings.yaml"
DAY = date(2026, 10, 5)
EVIL_IDS = ["x' OR '1'='1", "kab-1'; DROP TABLE aduan; --", 'kab-1" OR 1=1 --', "../kab-1"]


# --- SQL ------------------------------------------------------------------------------------


def _registry_with(tmp_path: Path, **changes) -> Path:
    """The small registry with its first sql source changed; written to tmp_path."""
    entries = yaml.safe_load(SMALL.read_text())["sources"]
    sql = next(e for e in entries if e["connector"]["kind"] == "sql")
    for key, value in changes.items():
        if key == "options":
            sql["connector"]["options"] = {**sql["connector"]["options"], **value}
        else:
            sql[key] = value
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": entries}, allow_unicode=True))
    return path


@pytest.mark.parametrize("evil", EVIL_IDS)
def test_registry_refuses_an_injection_id(tmp_path, evil):
    with pytest.raises(RegistryError) as info:
        load_registry(_registry_with(tmp_path, id=evil), MAPPINGS)
    assert "[a-z0-9-]+" in str(info.value)


@pytest.mark.parametrize(
    "option,value",
    [
        ("table", "aduan; DROP TABLE aduan"),
        ("table", "aduan WHERE 1=1 --"),
        ("filter_column", "kode_satker OR 1=1"),
        ("updated_column", 'tgl_update" --'),
        ("table", "main.aduan"),
    ],
)
def test_registry_refuses_an_injection_identifier_option(tmp_path, option, value):
    with pytest.raises(RegistryError) as info:
        load_registry(_registry_with(tmp_path, options={option: value}), MAPPINGS)
    assert f"options.{option}" in str(info.value)
    assert "not a valid SQL identifier" in str(info.value)


def test_the_unchanged_small_registry_loads(tmp_path):
    assert len(load_registry(_registry_with(tmp_path), MAPPINGS)) == 6


@pytest.fixture
def aduan(tmp_path, monkeypatch):
    """A real SQLite ``aduan`` table: two honest sources and one whose id is an injection."""
    url = f"sqlite:///{tmp_path / 'regional.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text(
            "CREATE TABLE aduan (no_tiket TEXT, kode_satker TEXT, nik_pelapor TEXT, "
            "tgl_update TEXT)"
        ))  # fmt: skip
        rows = [
            {"t": "A1", "s": "kab-1", "n": "3171010101900001", "u": "2026-10-05 09:00:00"},
            {"t": "A2", "s": "kab-1", "n": "3171010101900002", "u": "2026-10-05 10:00:00"},
            {"t": "B1", "s": "kab-2", "n": "3171010101900003", "u": "2026-10-05 11:00:00"},
            {"t": "X1", "s": "x' OR '1'='1", "n": "3171010101900004", "u": "2026-10-05 12:00:00"},
        ]
        c.execute(sa.text("INSERT INTO aduan VALUES (:t, :s, :n, :u)"), rows)
    engine.dispose()
    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONAL_INJ",
        json.dumps({"conn_type": "sqlite", "extra": {"sqlalchemy_url": url}}),
    )
    return url


def _sql_source(source_id: str, **options) -> NS:
    return NS(id=source_id, timezone="Asia/Jakarta",
              connector=NS(kind="sql", conn_id="regional_inj", options=options))  # fmt: skip


def _read_ids(conn) -> list[str]:
    window = Window.for_day(DAY, "Asia/Jakarta")
    return [r["no_tiket"] for b in conn.read(window) for r in b.to_pylist()]


@pytest.mark.parametrize("evil", EVIL_IDS[1:] + ["kab-1' OR 'a'='a", "kab-1' --"])
def test_sql_connector_binds_the_source_id(aduan, settings, evil):
    conn = open_connector(_sql_source(evil), settings)
    try:
        assert _read_ids(conn) == []
    finally:
        conn.close()
    engine = sa.create_engine(aduan)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT COUNT(*) FROM aduan")).scalar_one() == 4
    engine.dispose()


def test_an_injection_shaped_id_reads_only_its_own_row(aduan, settings):
    # bound as a value, "x' OR '1'='1" is just a string: it matches its own row and no other
    conn = open_connector(_sql_source("x' OR '1'='1"), settings)
    try:
        assert _read_ids(conn) == ["X1"]
    finally:
        conn.close()
    conn = open_connector(_sql_source("kab-1"), settings)
    try:
        assert _read_ids(conn) == ["A1", "A2"]
    finally:
        conn.close()


@pytest.mark.parametrize(
    "option,value",
    [("table", "aduan; DROP TABLE aduan"), ("filter_column", "kode_satker OR 1=1"),
     ("updated_column", "tgl_update --"), ("schema", "main; --")],
)  # fmt: skip
def test_sql_connector_refuses_identifier_options_the_registry_did_not_check(
    aduan, settings, option, value
):
    with pytest.raises(SourceError, match=f"option {option}"):
        open_connector(_sql_source("kab-1", **{option: value}), settings)


# --- paths ----------------------------------------------------------------------------------

CSV = "Nomor Tiket,NIK Pelapor\n{ticket},3171010101900009\n"


def _file_source(source_id: str = "kab-3327") -> NS:
    return NS(id=source_id, timezone="Asia/Jakarta",
              connector=NS(kind="file", conn_id=None, options={}))  # fmt: skip


def _read_files(settings, source_id: str = "kab-3327"):
    conn = open_connector(_file_source(source_id), settings)
    batches = list(conn.read(Window.for_day(DAY, "Asia/Jakarta")))
    tickets = [r["Nomor Tiket"] for b in batches for r in b.to_pylist()]
    return conn, tickets


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside the drop folder holding a file nobody may read through it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.csv").write_text(CSV.format(ticket="OUTSIDE"))
    return folder


def _day(settings, source_id: str = "kab-3327") -> Path:
    folder = settings.drop_dir / source_id / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_dotdot_names_and_outward_file_symlinks_are_not_read(settings, outside):
    folder = _day(settings)
    (folder / "ok.csv").write_text(CSV.format(ticket="OK"))
    (folder / "..secret.csv").write_text(CSV.format(ticket="DOTDOT"))
    os.symlink(outside / "secret.csv", folder / "link.csv")
    os.symlink("../../../../elsewhere/secret.csv", folder / "relative.csv")
    conn, tickets = _read_files(settings)
    assert tickets == ["OK"]
    notes = "\n".join(conn.notes)
    assert "..secret.csv: skipped (unsafe file name)" in notes
    assert "link.csv: skipped (symlink pointing outside the drop folder)" in notes
    assert "relative.csv: skipped" in notes


@pytest.mark.parametrize("name", ["../../elsewhere/secret.csv", "/etc/passwd", "sub/../x.csv"])
def test_a_claims_manifest_cannot_point_outside(settings, outside, name):
    _day(settings)
    manifest = settings.state_dir / "claims" / "kab-3327" / f"{DAY.isoformat()}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"files": [{"name": name, "size": 1, "sha256": "x"}]}))
    with pytest.raises(SourceError, match="unsafe file name"):
        _read_files(settings)


@pytest.mark.parametrize("source_id", ["..", "../elsewhere", "/abs", ".hidden"])
def test_a_source_id_cannot_name_a_folder_outside(settings, source_id):
    with pytest.raises(SourceError, match="not usable as a folder name"):
        open_connector(_file_source(source_id), settings)


def test_a_day_folder_symlinked_outside_is_not_read(settings, outside):
    (settings.drop_dir / "kab-3327").mkdir(parents=True)
    os.symlink(outside, settings.drop_dir / "kab-3327" / DAY.isoformat())
    with pytest.raises(SourceError, match="outside the drop folder"):
        _read_files(settings)


def test_a_source_folder_symlinked_outside_is_not_read(settings, tmp_path):
    elsewhere = tmp_path / "other-root"
    (elsewhere / DAY.isoformat()).mkdir(parents=True)
    (elsewhere / DAY.isoformat() / "secret.csv").write_text(CSV.format(ticket="OUTSIDE"))
    settings.drop_dir.mkdir(parents=True)
    os.symlink(elsewhere, settings.drop_dir / "kab-3327")
    with pytest.raises(SourceError, match="outside the drop folder"):
        _read_files(settings)


# --- spreadsheet formulas -------------------------------------------------------------------

FORMULAS = {
    "=": '=HYPERLINK("http://evil.example/x","klik")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
}


@pytest.fixture(scope="module")
def evil_reports(tmp_path_factory):
    import duckdb

    from complaints.reports import build_reports
    from complaints.reports.sample import default_institutions, register, sample_frames

    institutions = default_institutions(len(FORMULAS))
    for inst, (trigger, formula) in zip(institutions, FORMULAS.items(), strict=True):
        inst["name"] = formula
        inst["province_name"] = formula
        inst["institution_id"] = f"evil-{ord(trigger)}"
    frames = sample_frames(institutions=institutions, period="month",
                           period_start=date(2026, 10, 1))  # fmt: skip
    # complaint ids come from the sources: a source can send a formula as its tracking number
    overdue = frames["overdue_complaints"]
    if len(overdue):
        overdue["complaint_id"] = [
            list(FORMULAS.values())[i % len(FORMULAS)] for i in range(len(overdue))
        ]
    con = duckdb.connect()
    register(con, frames)
    outbox = tmp_path_factory.mktemp("outbox")
    try:
        built = build_reports(con, "month", date(2026, 10, 1), outbox)
    finally:
        con.close()
    return built, len(overdue)


def test_no_report_cell_is_a_formula_and_triggers_are_kept_as_text(evil_reports):
    built, overdue = evil_reports
    assert overdue > 0, "the sample has overdue complaints to carry the formulas"
    seen: set[str] = set()
    for report in built:
        workbook = load_workbook(report.xlsx)
        for ws in workbook.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (report.xlsx, ws.title, cell.coordinate)
                    value = cell.value
                    if isinstance(value, str):
                        assert not value.startswith(tuple(FORMULAS)), (
                            report.xlsx.name,
                            ws.title,
                            cell.coordinate,
                            value,
                        )
                        if value.startswith("'") and value[1:] in FORMULAS.values():
                            seen.add(value[1])
    assert seen == set(FORMULAS), f"every trigger reached a report as text, got {seen}"
