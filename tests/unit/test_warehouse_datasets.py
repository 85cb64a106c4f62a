"""Publishing from pyarrow Datasets (spilled Parquet files) equals publishing from Tables."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from test_warehouse_support import SOURCE, quarantine, raw, run, ts, version, versions

from complaints.warehouse import Warehouse
from complaints.warehouse.checksum import fingerprint

DAYS = [date(2026, 9, 28) + timedelta(days=i) for i in range(5)]


def as_dataset(table: pa.Table, folder: Path, files: int, fmt: str = "parquet") -> ds.Dataset:
    """``table`` spilled into ``files`` Parquet or Arrow IPC files (none for an empty table)."""
    folder.mkdir(parents=True)
    paths = []
    step = max(1, -(-table.num_rows // files))
    for i, start in enumerate(range(0, table.num_rows, step)):
        paths.append(str(folder / f"part-{i}.{fmt}"))
        part = table.slice(start, step)
        if fmt == "parquet":
            pq.write_table(part, paths[-1], row_group_size=max(3, step // 4))
        else:
            with ipc.new_file(paths[-1], part.schema) as writer:
                writer.write_table(part, max_chunksize=3)
    return ds.dataset(paths, format=fmt)


def _day_rows(rng: random.Random, d: date, n: int) -> list[dict]:
    rows = []
    for cid in rng.sample([f"c{i}" for i in range(15)], rng.randint(0, 12)):
        for _ in range(rng.randint(1, 2)):
            rows.append(
                version(
                    cid,
                    rng.choice(["received", "verified", "closed"]),
                    ts(d - timedelta(days=rng.randint(0, 3)), rng.choice([8, 9])),
                    submitted=ts(date(2026, 9, 20) + timedelta(days=rng.randint(0, 16)), 20),
                    rahasia=rng.random() < 0.2,
                    title=f"t{n}",
                )
            )
    return rows


@pytest.mark.parametrize(("seed", "fmt"), [(0, "parquet"), (1, "parquet"), (2, "ipc")])
def test_dataset_publish_equals_table_publish(tmp_path, seed, fmt):
    rng = random.Random(seed)
    plan = [(d, f"a-{d}") for d in rng.sample(DAYS, len(DAYS))]
    plan += [(d, f"b-{d}") for d in rng.sample(DAYS, 3)]  # reruns with new data
    plan.append((DAYS[0], "c-empty"))  # a rerun that finds nothing: zero-file datasets
    by_table = Warehouse(root=str(tmp_path / "tables"))
    by_dataset = Warehouse(root=str(tmp_path / "datasets"))
    for n, (d, run_id) in enumerate(plan):
        rows = [] if run_id == "c-empty" else _day_rows(rng, d, n)
        nq = 0 if run_id == "c-empty" else rng.randint(0, 4)
        parts = {
            "raw": raw(rows),
            "versions": versions(rows),
            "quarantine": quarantine(SOURCE, d, nq, run_id),
        }
        meta = run(SOURCE, d, run_id, len(rows) + nq)
        expected = by_table.publish_source_day(SOURCE, d, **parts, run=meta)
        spilled = {
            k: as_dataset(t, tmp_path / "spill" / f"{n}-{k}", rng.randint(1, 3), fmt)
            for k, t in parts.items()
        }
        got = by_dataset.publish_source_day(SOURCE, d, **spilled, run=meta)
        for result in (expected, got):
            result.pop("txid")
        assert got == expected
    assert fingerprint(by_dataset.storage) == fingerprint(by_table.storage)


def test_record_run_takes_a_dataset_quarantine(tmp_path):
    q = quarantine(SOURCE, DAYS[0], 7, "rej")
    meta = dict(run(SOURCE, DAYS[0], "rej", 7), status="rejected")
    by_table = Warehouse(root=str(tmp_path / "tables"))
    by_dataset = Warehouse(root=str(tmp_path / "datasets"))
    by_table.record_run(SOURCE, DAYS[0], meta, quarantine=q)
    by_dataset.record_run(SOURCE, DAYS[0], meta, quarantine=as_dataset(q, tmp_path / "q", 3))
    assert fingerprint(by_dataset.storage) == fingerprint(by_table.storage)
    assert by_dataset.read("quarantine").num_rows == 7


def test_large_dataset_is_published_whole(tmp_path):
    """250,000 versions of 200,000 complaints over 3 months, spilled into 5 files."""
    n, ids = 250_000, 200_000
    proto = versions([version("x", "received", ts(DAYS[2]))])
    idx = pa.array(range(n))
    cid = pc.binary_join_element_wise(
        "c", pc.cast(pc.divide(pc.multiply(idx, ids), n), pa.string()), ""
    )
    table = proto.take(pa.array([0] * n))
    table = table.set_column(0, "complaint_id", cid)
    months = pc.cast(pc.multiply(pc.bit_wise_and(idx, 3), 30 * 86_400_000_000), pa.duration("us"))
    sub = pc.subtract(table["submitted_at"], months)
    table = table.set_column(table.schema.get_field_index("submitted_at"), "submitted_at", sub)
    wh = Warehouse(root=str(tmp_path / "wh"))
    result = wh.publish_source_day(
        SOURCE,
        DAYS[2],
        raw=as_dataset(table.select(["complaint_id", "status"]), tmp_path / "raw", 5),
        versions=as_dataset(table, tmp_path / "versions", 5),
        quarantine=as_dataset(quarantine(SOURCE, DAYS[2], 0), tmp_path / "q", 1),
        run=run(SOURCE, DAYS[2], "big", n),
    )
    assert result["rows"] == {
        "raw": n,
        "complaint_history": n,
        "quarantine": 0,
        "complaint_current": ids,
    }
    assert result["current_partitions"] == ["2026-07", "2026-08", "2026-09", "2026-10"]
    con = wh.connect()
    assert con.sql("select count(*) from complaint_history").fetchall() == [(n,)]
    counts = "select count(*), count(distinct complaint_id) from complaint_current"
    assert con.sql(counts).fetchall() == [(ids, ids)]
    # the latest version of each complaint is its last delivered row
    wrong = con.sql(
        "select count(*) from complaint_current c join (select complaint_id, "
        "arg_max(submitted_at, version_seq) as sub from complaint_history group by 1) h "
        "using (complaint_id) where c.submitted_at is distinct from h.sub"
    ).fetchall()
    assert wrong == [(0,)]
