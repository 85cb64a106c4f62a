"""A source-day comes out the same whatever the connector's batch size.

The pipeline maps and checks a day batch by batch and spills its rows to Parquet parts; the day-
level checks (duplicate keys across batches, volume, batch policy) run over all of them. Each
scenario is ingested twice, with 7-row batches and with one batch, and everything the run left
behind is compared: the ingest_runs row (but its ids and timings), the check results and the
results stored for GX, complaint_history, complaint_current, raw and quarantine.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bad_input_support import (
    DAY,
    FIXTURES,
    HEADER,
    SOURCE_ID,
    Lapor,
    csv_text,
    good_row,
    good_rows,
    reconcile,
)

VOLATILE = {"run_id", "started_at", "finished_at", "duration_s", "data_docs", "ingested_at",
            "published_at", "seen_at", "check_results"}  # fmt: skip


def _plain(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def _stored_results(lapor: Lapor) -> dict[str, list]:
    out = {}
    for path in sorted((lapor.settings.data_dir / "gx").rglob("validations/**/*.json")):
        doc = json.loads(path.read_text())
        suite = path.parts[path.parts.index("validations") + 1]
        out[suite] = [
            {k: r[k] for k in ("success", "result", "exception_info")} for r in doc["results"]
        ]
    return out


def _left_behind(lapor: Lapor, out) -> dict:
    tables = lapor.tables()

    def rows(sql: str) -> list[dict]:
        return _plain(lapor.query(sql, [SOURCE_ID])) if sql.split()[3] in tables else []

    return {
        "run": _plain([out.run]),
        "checks": json.loads(out.run["check_results"] or "[]"),
        "gx": _stored_results(lapor),
        "history": rows(
            "select * from complaint_history where source_id = ? order by complaint_id, updated_at"
        ),
        "current": rows("select * from complaint_current where source_id = ? order by 1"),
        "raw": rows("select * from raw where source_id = ? order by all"),
        "quarantine": rows("select * from quarantine where source_id = ? order by row_number"),
    }


def _ingest_twice(tmp_path, monkeypatch, drop) -> tuple[dict, dict]:
    seen, key = [], None
    for batch_rows in (7, 100_000):
        lapor = Lapor(tmp_path / str(batch_rows), monkeypatch, {"batch_rows": batch_rows})
        key_file = lapor.settings.data_dir / "state" / "hash.key"
        if key is not None:  # the same reporter keys in both runs
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_bytes(key)
        drop(lapor)
        out = lapor.ingest()
        reconcile(out)
        seen.append(_left_behind(lapor, out))
        key = key_file.read_bytes()
    return seen[0], seen[1]


def _same(tiny: dict, large: dict) -> None:
    for part in tiny:
        assert tiny[part] == large[part], part


def test_duplicates_in_different_batches_and_a_second_header(tmp_path, monkeypatch):
    rows = good_rows(80)
    rows.append(good_row(3))  # an exact copy, 78 rows after the first: "duplicate row"
    rows.append(good_row(5, **{"Judul": "Judul lain"}))  # same key, other contents: conflict
    rows.append(good_row(90, **{"Nilai": "enam"}))  # a row the row checks quarantine

    def drop(lapor: Lapor) -> None:
        lapor.drop_text("a.csv", csv_text(rows))
        # a second file without the optional rating column: batches with other columns
        header = [c for c in HEADER if c != "Nilai"]
        lapor.drop_text("b.csv", csv_text(good_rows(12, start=100), header))

    tiny, large = _ingest_twice(tmp_path, monkeypatch, drop)
    _same(tiny, large)
    assert tiny["run"][0]["status"] == "published"
    assert {"complaints_keys", "complaints_values"} <= set(tiny["gx"])
    reasons = {q["row_number"]: list(q["reasons"]) for q in tiny["quarantine"]}
    assert reasons == {
        4: ["conflicting versions of complaint_id and updated_at"],
        80: ["duplicate row"],
        81: ["conflicting versions of complaint_id and updated_at"],
        82: ["rating 'enam' is not an integer 1-5"],
    }
    keys = next(c for c in tiny["checks"] if c["details"].get("rule") == "key not unique")
    assert keys["unexpected_count"] == 4 and keys["details"]["row_check_count"] == 4


def test_rejected_day(tmp_path, monkeypatch):
    bad = [good_row(9201 + n, **{"Nilai": v}) for n, v in enumerate("0 6 x y".split())]
    rows = good_rows(36) + bad

    def drop(lapor: Lapor) -> None:
        lapor.drop_text("ekspor.csv", csv_text(rows))

    tiny, large = _ingest_twice(tmp_path, monkeypatch, drop)
    _same(tiny, large)
    assert tiny["run"][0]["status"] == "rejected"
    assert len(tiny["quarantine"]) == 40 and tiny["history"] == []
    assert tiny["quarantine"][36]["reasons"][-1].startswith("day rejected: quarantined 4 of 40")


def test_failing_source(tmp_path, monkeypatch):
    def drop(lapor: Lapor) -> None:
        lapor.drop_text("00_padding.csv", csv_text(good_rows(20)))
        lapor.drop_bytes("not_a_list.json", (FIXTURES / "not_a_list.json").read_bytes())

    tiny, large = _ingest_twice(tmp_path, monkeypatch, drop)
    _same(tiny, large)
    assert tiny["run"][0]["status"] == "failed"
    assert len(tiny["quarantine"]) == 20
    assert all(q["reasons"][0].startswith("source failed: ") for q in tiny["quarantine"])


def test_an_ingest_sweeps_what_a_killed_ingest_spilled(tmp_path, monkeypatch, caplog):
    lapor = Lapor(tmp_path, monkeypatch)
    spill = lapor.settings.data_dir / "spill"
    killed = spill / "run-2026-10-01-killed"  # as a SIGKILLed ingest leaves it: parts, no lock
    (killed / "raw").mkdir(parents=True)
    (killed / "raw" / "part-000000.arrow").write_bytes(b"rows of a day")
    lapor.drop_text("ekspor.csv", csv_text(good_rows(5)))
    out = lapor.ingest()
    reconcile(out)
    assert out.run["status"] == "published"
    assert list(spill.iterdir()) == []  # the killed one swept, this run's own removed
    assert "run-2026-10-01-killed" in caplog.text


def test_keys_shared_with_a_checked_out_row_and_copies_across_batches(tmp_path, monkeypatch):
    """Row hashes are only computed for rows whose key repeats, from the spilled parts: a row
    the row checks quarantined still tells a copy from a conflicting version."""
    rows = good_rows(200)  # row numbers 0..199 (LPR-00001 ...)
    later = (DAY + timedelta(days=2)).strftime("%d/%m/%Y 09:00")
    rows.append(good_row(3, **{"Tanggal Lapor": later}))  # 200: LPR-00003's key (2), checked out
    rows.append(good_row(7))  # 201: an exact copy of LPR-00007 (6)
    rows.append(good_row(9, **{"Isi Laporan": "Isi lain"}))  # 202: conflicts with LPR-00009 (8)
    rows.append(good_row(12, **{"Tanggal Lapor": later}))  # 203: LPR-00012's key (11), checked out
    rows.append(good_row(12, **{"Tanggal Lapor": later}))  # 204: and its exact copy

    tiny, large = _ingest_twice(
        tmp_path, monkeypatch, lambda lapor: lapor.drop_text("a.csv", csv_text(rows))
    )
    _same(tiny, large)
    reasons = {q["row_number"]: list(q["reasons"]) for q in tiny["quarantine"]}
    conflict, copy = "conflicting versions of complaint_id and updated_at", "duplicate row"
    late = "submitted_at after as_of"
    # what hashing every row gave (measured at the commit before hashing only repeated keys)
    assert reasons == {
        2: [conflict],  # LPR-00003 and its checked-out other version
        8: [conflict],  # LPR-00009 and its other text
        11: [conflict],  # LPR-00012 and its two checked-out copies
        200: [late, conflict],
        201: [copy],  # LPR-00007's exact copy
        202: [conflict],
        203: [late, conflict],
        204: [late, copy, conflict],
    }
