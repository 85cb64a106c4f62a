"""simulate(): the three export shapes on disk, idempotence, summary, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from complaints.config import INCLUDE_DIR
from complaints.simulate import BROKEN_KINDS, exports, files, simulate
from complaints.simulate.damage import UNKNOWN_STATUS_WORDS

DAY1, DAY2 = dt.date(2026, 10, 29), dt.date(2026, 10, 30)
MAPPINGS = yaml.safe_load((INCLUDE_DIR / "registry" / "mappings.yaml").read_text())["mappings"]
SHAPES = {"http": "lapor_api_v1", "sql": "simpel_db", "file": "ekspor_berkas"}


def source(
    sid, kind, region="32.01", level="kabupaten", pop=400_000, tz="Asia/Jakarta", options=None
):
    return SimpleNamespace(
        id=sid,
        level=level,
        region_code=region,
        timezone=tz,
        population=pop,
        connector=SimpleNamespace(kind=kind, options=options or {}),
    )


def file_sources() -> list:
    """One file source per format in the rotation (ids found by the rotation itself)."""
    wanted = {(f.ext, f.encoding, f.delimiter) for f in files.FORMATS}
    found, i = [], 0
    while wanted:
        src = source(f"kab-f{i}", "file", tz="Asia/Makassar", region="73.71")
        fmt = files.file_format(src)
        key = (fmt.ext, fmt.encoding, fmt.delimiter)
        if key in wanted:
            wanted.discard(key)
            found.append(src)
        i += 1
    return found


SOURCES = [
    source("kab-3201", "sql"),
    source("prov-32", "http", region="32", level="provinsi", pop=4_000_000),
    *file_sources(),
]


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".sqlite"):
        h.update(str(path.relative_to(root)).encode())
        if path.suffix != ".xlsx":  # xlsx carries a creation time
            h.update(path.read_bytes())
        else:
            h.update(pd.read_excel(path, dtype=str).to_csv().encode())
    for name, sql in (
        ("regional.sqlite", "select * from aduan order by id"),
        ("api.sqlite", "select * from versions order by rowid"),
    ):
        with sqlite3.connect(root / name) as conn:
            h.update(repr(conn.execute(sql).fetchall()).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    from complaints.config import Settings

    root = tmp_path_factory.mktemp("sim")
    settings = Settings(
        env="local",
        data_dir=root,
        warehouse=str(root / "wh"),
        outbox=root / "out",
        registry=root / "r.yaml",
        sources_dir=root / "src",
    )
    summary = simulate(settings, SOURCES, DAY1, DAY2, seed=3, scale=0.3, broken_share=0.05)
    return settings, summary


def test_shapes_match_mappings_yaml():
    for shape, mapping in MAPPINGS.items():
        assert exports.COLUMNS[shape] == {k: v for k, v in mapping["columns"].items()}, shape
        known = {w.lower() for w in mapping["values"]["status"]}
        for words in exports.EVENT_WORDS[shape].values():
            assert {w.lower() for w in words} <= known, shape
        for field in ("classification", "channel"):
            vocab = {k.lower(): v for k, v in mapping["values"][field].items()}
            for canon, word in exports.VALUE_WORDS[shape][field].items():
                assert vocab[word.lower()] == canon
        assert not {w.lower() for w in UNKNOWN_STATUS_WORDS} & known


def test_summary_counts_versions_and_broken_rows(simulated):
    settings, summary = simulated
    frame = summary.to_frame()
    assert len(frame) == len(SOURCES) * 2
    assert list(frame.columns[:5]) == ["source_id", "connector_kind", "day", "versions", "broken"]
    assert (frame["broken"] == frame[list(BROKEN_KINDS)].sum(axis=1)).all()
    assert frame["broken"].sum() > 0
    kinds = summary.broken("kab-3201", DAY1)
    assert set(kinds) == set(BROKEN_KINDS)


def test_sqlite_aduan_rows(simulated):
    settings, summary = simulated
    with sqlite3.connect(settings.sources_dir / "regional.sqlite") as conn:
        rows = pd.read_sql("select * from aduan", conn)
    expected = set(MAPPINGS["simpel_db"]["columns"].values()) | {"kode_satker", "id"}
    assert set(rows.columns) == expected
    assert (rows["kode_satker"] == "kab-3201").all()
    written = summary.to_frame().query("source_id == 'kab-3201'")["versions"].sum()
    assert len(rows) == written
    assert rows["tgl_update"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert set(rows["rahasia"]) <= {0, 1} and set(rows["anonim"]) <= {0, 1}
    day1 = rows[rows["tgl_update"].str.startswith("2026-10-29")]
    assert (
        len(day1)
        == summary.to_frame().query("source_id=='kab-3201' and day==@DAY1")["versions"].item()
    )
    planted = summary.broken("kab-3201", DAY1)
    assert (day1["no_tiket"].isna()).sum() == planted["missing_id"]


def test_api_store_rows(simulated):
    settings, summary = simulated
    with sqlite3.connect(settings.sources_dir / "api.sqlite") as conn:
        rows = conn.execute("select source_id, updated_at, json from versions").fetchall()
    assert {r[0] for r in rows} == {"prov-32"}
    assert len(rows) == summary.to_frame().query("source_id == 'prov-32'")["versions"].sum()
    # WIB midnight is 17:00 UTC the day before
    assert min(r[1] for r in rows) >= "2026-10-28T17:00:00Z"
    assert max(r[1] for r in rows) < "2026-10-30T17:00:00Z"
    records = [json.loads(r[2]) for r in rows]
    assert set(records[0]) == set(MAPPINGS["lapor_api_v1"]["columns"].values())
    for rec in records:
        assert isinstance(rec["confidential"], bool) and isinstance(rec["anonymous"], bool)
        assert rec["rating"] is None or isinstance(rec["rating"], int | str)
        assert rec["updated_at"].endswith("Z")


def test_files_in_every_format_read_back_with_the_mapping_headers(simulated):
    settings, summary = simulated
    headers = list(MAPPINGS["ekspor_berkas"]["columns"].values())
    seen = set()
    for src in SOURCES[2:]:
        fmt = files.file_format(src)
        for day in (DAY1, DAY2):
            [path] = list(files.day_dir(settings.drop_dir, src.id, day).iterdir())
            seen.add(path.suffix)
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") == (fmt.encoding == "utf-8-sig")
            if path.suffix in (".csv", ".tsv"):
                table = pd.read_csv(
                    path, sep=fmt.delimiter, dtype=str, encoding=fmt.encoding, keep_default_na=False
                )
            elif path.suffix == ".xlsx":
                table = pd.read_excel(path, dtype=str, keep_default_na=False)
            elif path.suffix == ".json":
                table = pd.DataFrame(json.loads(raw.decode("utf-8")), columns=headers)
            else:
                lines = raw.decode("utf-8").splitlines()
                table = pd.DataFrame([json.loads(x) for x in lines], columns=headers)
            assert list(table.columns) == headers, path
            n = summary.to_frame().query("source_id == @src.id and day == @day")["versions"]
            assert len(table) == n.item(), path
            if len(table):
                flags = set(table["Rahasia"].dropna())
                assert flags <= {"Ya", "Tidak"}
                stamps = table["Terakhir Diperbarui"]
                assert stamps.str.match(r"^(\d{1,2} [A-Z][a-z]+ \d{4}|\d\d/\d\d/\d{4}) ").all()
    assert seen == {".csv", ".tsv", ".xlsx", ".json", ".ndjson"}


def test_rerun_is_idempotent_and_deterministic(simulated, tmp_path):
    from complaints.config import Settings

    settings, _ = simulated
    before = _tree_hash(settings.sources_dir)
    simulate(settings, SOURCES, DAY1, DAY2, seed=3, scale=0.3, broken_share=0.05)
    assert _tree_hash(settings.sources_dir) == before
    # a fresh folder, the sources in another order, one day at a time: same data
    other = Settings(
        env="local",
        data_dir=tmp_path,
        warehouse=str(tmp_path / "wh"),
        outbox=tmp_path / "o",
        registry=tmp_path / "r",
        sources_dir=settings.sources_dir,
    )
    fresh = Settings(**{**other.__dict__, "sources_dir": tmp_path / "src"})
    for day in (DAY1, DAY2):
        simulate(fresh, list(reversed(SOURCES)), day, day, seed=3, scale=0.3, broken_share=0.05)
    with (
        sqlite3.connect(fresh.sources_dir / "regional.sqlite") as a,
        sqlite3.connect(settings.sources_dir / "regional.sqlite") as b,
    ):
        sql = "select * from aduan order by tgl_update, no_tiket, status"
        strip = lambda rows: [r[1:] for r in rows]  # noqa: E731 - ids differ by insert order
        assert strip(a.execute(sql).fetchall()) == strip(b.execute(sql).fetchall())
    # another seed differs
    simulate(fresh, SOURCES[:1], DAY1, DAY2, seed=4, scale=0.3)
    with (
        sqlite3.connect(fresh.sources_dir / "regional.sqlite") as a,
        sqlite3.connect(settings.sources_dir / "regional.sqlite") as b,
    ):
        assert strip(a.execute(sql).fetchall()) != strip(b.execute(sql).fetchall())


def test_file_options_override_the_rotation():
    src = source("kab-x", "file", options={"encoding": "cp1252", "delimiter": ";"})
    fmt = files.file_format(src)
    assert (fmt.ext, fmt.encoding, fmt.delimiter) == ("csv", "cp1252", ";")


def test_broken_values_reach_the_exports():
    from complaints.simulate import model

    src = source("kab-3201", "sql", pop=3_000_000)
    frame = model.versions(src, DAY1, DAY1, broken_share=0.3, scale=0.5)
    table = exports.render_file(frame, "mixed")
    hit = frame["broken"] == "unknown_status"
    assert table.loc[hit.to_numpy(), "Status"].isin(UNKNOWN_STATUS_WORDS).all()
    rows = exports.render_sql(frame, src.id, text_timestamps=True)
    bad_dates = frame.index[frame["broken"] == "bad_date"]
    for i in bad_dates:
        column = exports.COLUMNS["simpel_db"][frame.at[i, "broken_field"]]
        assert rows[i][column] == frame.at[i, "broken_value"]
    api = exports.render_api(frame, "Asia/Jakarta")
    for i in frame.index[frame["broken"] == "bad_rating"]:
        assert json.loads(api[i][1])["rating"] in (0, 6, "lima")
