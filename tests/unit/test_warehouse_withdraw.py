"""A complaint marked rahasia after it was received: its earlier versions lose their text.

DOMAIN.md: a rahasia complaint's text never leaves the institution. The rule
(``warehouse.withdraw``): a version that comes before one of its complaint's rahasia versions
holds no text, in history and in the raw layer, whichever day it was published on.
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pyarrow as pa
import pytest
from test_privacy import SIMPEL, _raw
from test_warehouse_support import (
    MON,
    SOURCE,
    THU,
    TUE,
    WED,
    assert_current_is_latest_history,
    by_id,
    quarantine,
    run,
    ts,
    version,
    versions,
)

from complaints.privacy import RawText, pseudonymise
from complaints.warehouse import layout

SAT = MON - timedelta(days=2)

#: the raw layer as the tests' source sends it: the id, a status, two text columns
RAW_TEXT = RawText(id_columns=("id_aduan",), kept=frozenset({"_row", "id_aduan", "status"}))


def raw_rows(rows: list[dict]) -> pa.Table:
    return pa.table(
        {
            "_row": list(range(len(rows))),
            "id_aduan": [f" {r['complaint_id']} " for r in rows],  # mapped trimmed
            "status": [r["status"] for r in rows],
            "judul": [None if r["is_rahasia"] else r["title"] for r in rows],
            "catatan": [None if r["is_rahasia"] else "catatan " + r["body"] for r in rows],
        }
    )


def quarantined_rows(day, run_id, ids: list[str]) -> pa.Table:
    """Quarantine rows as the pipeline writes them: the raw row as JSON (``ensure_ascii``)."""
    table = quarantine(SOURCE, day, len(ids), run_id)
    texts = [
        json.dumps(
            {"id_aduan": f" {cid} ", "status": "??", "judul": f"Judul {cid} é", "catatan": None,
             "jumlah": 3},
            ensure_ascii=True,
        )
        for cid in ids
    ]  # fmt: skip
    table = table.set_column(4, "complaint_id", pa.array(ids, pa.string()))
    return table.set_column(5, "raw", pa.array(texts, pa.string()))


def publish(wh, day, rows, run_id, raw_text=RAW_TEXT, quarantined=()):
    return wh.publish_source_day(
        SOURCE,
        day,
        raw=raw_rows(rows),
        versions=versions(rows),
        quarantine=quarantined_rows(day, run_id, list(quarantined)),
        run=run(SOURCE, day, run_id, len(rows)),
        raw_text=raw_text,
    )


def quarantined(wh, day) -> list[tuple]:
    """(complaint_id, the raw JSON as a dict) of one day's quarantine."""
    rows = wh.storage.read_parquet(layout.day_file(layout.QUARANTINE, SOURCE, day)).to_pylist()
    return sorted((r["complaint_id"], r["raw"] and json.loads(r["raw"])) for r in rows)


def without_text(cid: str) -> dict:
    return {"id_aduan": f" {cid} ", "status": "??", "judul": None, "catatan": None, "jumlah": 3}


def with_text(cid: str) -> dict:
    return {**without_text(cid), "judul": f"Judul {cid} é"}


def history(wh, day) -> list[tuple]:
    """(complaint_id, version_seq, title, body) of one day's history."""
    rows = wh.storage.read_parquet(layout.day_file(layout.HISTORY, SOURCE, day)).to_pylist()
    return sorted((r["complaint_id"], r["version_seq"], r["title"], r["body"]) for r in rows)


def raw_text(wh, day) -> list[tuple]:
    """(complaint_id, judul, catatan, status) of one day's raw rows."""
    rows = wh.storage.read_parquet(layout.day_file(layout.RAW, SOURCE, day)).to_pylist()
    return sorted((r["id_aduan"].strip(), r["judul"], r["catatan"], r["status"]) for r in rows)


def test_flag_turned_on_withdraws_the_text_of_earlier_days(wh):
    publish(wh, MON, [version("A", "received", ts(MON)), version("B", "received", ts(MON))], "m")
    publish(wh, TUE, [version("A", "verified", ts(TUE))], "t")
    keep_tue = wh.storage.read_parquet(layout.day_file(layout.HISTORY, SOURCE, TUE))
    done = publish(wh, WED, [version("A", "in_process", ts(WED), rahasia=True)], "w")

    assert done["versions_text_withdrawn"] == 2
    assert history(wh, MON) == [
        ("A", 0, None, None),
        ("B", 1, "Jalan rusak", "isi B received"),  # another complaint keeps its text
    ]
    assert history(wh, TUE) == [("A", 0, None, None)]
    assert raw_text(wh, MON) == [
        ("A", None, None, "received"),  # the status is not text: it stays
        ("B", "Jalan rusak", "catatan isi B received", "received"),
    ]
    assert raw_text(wh, TUE) == [("A", None, None, "verified")]
    # only the text changed: every other column of the rewritten day is as it was
    now = wh.storage.read_parquet(layout.day_file(layout.HISTORY, SOURCE, TUE))
    assert now.drop_columns(["title", "body"]).equals(keep_tue.drop_columns(["title", "body"]))
    con = wh.connect()
    texts = con.sql(
        "select count(*) from complaint_history where complaint_id = 'A' "
        "and (title is not null or body is not null)"
    ).fetchall()
    assert texts == [(0,)]
    assert by_id(wh)["A"]["is_rahasia"] is True
    assert_current_is_latest_history(wh)


def test_a_complaint_rahasia_from_the_start_rewrites_no_earlier_day(wh):
    publish(wh, MON, [version("A", "received", ts(MON), rahasia=True)], "m")
    mon = layout.day_file(layout.HISTORY, SOURCE, MON)
    before = (wh.storage.path(mon).stat().st_ino, wh.storage.path(mon).read_bytes())
    done = publish(wh, TUE, [version("A", "verified", ts(TUE), rahasia=True)], "t")
    assert done["versions_text_withdrawn"] == 0
    assert (wh.storage.path(mon).stat().st_ino, wh.storage.path(mon).read_bytes()) == before


def test_versions_before_a_rahasia_one_the_same_day_lose_their_text(wh):
    rows = [
        version("A", "received", ts(MON, 8)),
        version("A", "verified", ts(MON, 10), rahasia=True),
        version("A", "in_process", ts(MON, 9)),  # delivered last, but before the flag
        version("B", "received", ts(MON, 8)),
    ]
    done = publish(wh, MON, rows, "m")
    assert done["versions_text_withdrawn"] == 2
    assert history(wh, MON) == [
        ("A", 0, None, None),
        ("A", 1, None, None),
        ("A", 2, None, None),
        ("B", 3, "Jalan rusak", "isi B received"),
    ]
    assert [r[:3] for r in raw_text(wh, MON)] == [
        ("A", None, None),
        ("A", None, None),
        ("A", None, None),
        ("B", "Jalan rusak", "catatan isi B received"),
    ]
    assert_current_is_latest_history(wh)


def test_text_after_the_flag_was_taken_off_stays(wh):
    publish(wh, MON, [version("A", "received", ts(MON))], "m")
    publish(wh, TUE, [version("A", "verified", ts(TUE), rahasia=True)], "t")
    publish(wh, WED, [version("A", "in_process", ts(WED), title="Sudah boleh publik")], "w")
    assert history(wh, MON) == [("A", 0, None, None)]
    assert history(wh, WED) == [("A", 0, "Sudah boleh publik", "isi A in_process")]
    assert by_id(wh)["A"]["title"] == "Sudah boleh publik"
    # and the flag set again: only what came before the new rahasia version goes
    done = publish(wh, THU, [version("A", "followed_up", ts(THU), rahasia=True)], "h")
    assert done["versions_text_withdrawn"] == 1
    assert history(wh, WED) == [("A", 0, None, None)]
    assert_current_is_latest_history(wh)


def test_a_late_rahasia_version_withdraws_only_what_came_before_it(wh):
    """The order is the merge's (updated_at first): a rahasia version updated between two
    earlier-published versions takes the text of the first only."""
    publish(wh, MON, [version("A", "received", ts(MON))], "m")
    publish(wh, TUE, [version("A", "verified", ts(TUE))], "t")
    late = version("A", "received", ts(MON, 12), rahasia=True)
    done = publish(wh, WED, [late], "w")
    assert done["versions_text_withdrawn"] == 1
    assert history(wh, MON) == [("A", 0, None, None)]
    assert history(wh, TUE) == [("A", 0, "Jalan rusak", "isi A verified")]
    assert by_id(wh)["A"]["title"] == "Jalan rusak"  # the current version is after the flag
    assert_current_is_latest_history(wh)


@pytest.mark.parametrize("rerun", [False, True], ids=["backfill", "rerun"])
def test_a_backfilled_or_rerun_day_before_the_flag_is_written_without_text(wh, rerun):
    if rerun:
        publish(wh, MON, [version("A", "received", ts(MON))], "m")
    publish(wh, WED, [version("A", "verified", ts(WED), rahasia=True)], "w")
    done = publish(wh, MON, [version("A", "received", ts(MON))], "m2")
    assert done["versions_text_withdrawn"] == 1
    assert history(wh, MON) == [("A", 0, None, None)]
    assert raw_text(wh, MON) == [("A", None, None, "received")]
    assert by_id(wh)["A"]["is_rahasia"] is True
    assert_current_is_latest_history(wh)


def test_without_raw_text_history_still_loses_it(wh):
    publish(wh, MON, [version("A", "received", ts(MON))], "m", raw_text=None)
    publish(wh, TUE, [version("A", "verified", ts(TUE), rahasia=True)], "t", raw_text=None)
    assert history(wh, MON) == [("A", 0, None, None)]
    assert raw_text(wh, MON)[0][1] == "Jalan rusak"  # nothing says where the raw text is


def test_the_withdrawal_is_part_of_the_day_s_transaction(wh, monkeypatch):
    """A publish that fails after the merge leaves every earlier day as it was."""
    from complaints.warehouse import publish as publish_module

    publish(wh, MON, [version("A", "received", ts(MON))], "m")
    mon = wh.storage.read_parquet(layout.day_file(layout.HISTORY, SOURCE, MON))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish_module, "_rewrite", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(wh, TUE, [version("A", "verified", ts(TUE), rahasia=True)], "t")
    assert wh.storage.read_parquet(layout.day_file(layout.HISTORY, SOURCE, MON)).equals(mon)
    assert not wh.storage.exists(layout.day_file(layout.HISTORY, SOURCE, TUE))


def test_raw_text_of_a_mapping_finds_the_columns_pseudonymise_treats_as_text():
    mapping = SimpleNamespace(columns=SIMPEL.columns, booleans=SIMPEL.booleans)
    raw = pseudonymise(
        _raw(catatan=["telp 0812 3456 7890", "biasa"], jumlah=[1, 2]), mapping, b"k" * 32
    )
    text = RawText.of(mapping)
    assert text.withdraw(raw, pa.array(["T-9"])) is None
    out = text.withdraw(raw, pa.array(["T-1"]))
    first, second = out.slice(0, 1).to_pylist()[0], out.slice(1, 1).to_pylist()[0]
    assert (first["judul"], first["isi"], first["catatan"]) == (None, None, None)
    assert (first["no_tiket"], first["status"], first["rahasia"]) == ("T-1", "Baru", "tidak")
    assert first["jumlah"] == 1 and first["reporter_key"] is not None
    assert second == raw.slice(1, 1).to_pylist()[0]
    without_id = raw.drop_columns(["no_tiket"])
    assert text.withdraw(without_id, pa.array(["T-1"])) is None


def test_raw_text_of_every_registry_mapping_reads_the_mapper_s_id_and_withdraws_free_text():
    from complaints.config import INCLUDE_DIR
    from complaints.registry.loader import load_mappings

    mappings, _, problems = load_mappings(INCLUDE_DIR / "registry" / "mappings.yaml")
    assert not problems and mappings
    for name, mapping in mappings.items():
        text = RawText.of(mapping)
        assert text.id_columns == tuple(mapping.column_candidates("complaint_id")), name
        for field in ("title", "body"):
            assert not set(mapping.column_candidates(field)) & text.kept, (name, field)
        assert set(mapping.column_candidates("status")) <= text.kept, name


def test_the_day_s_quarantined_rows_of_a_complaint_rahasia_today_lose_their_text(wh):
    publish(wh, MON, [version("C", "received", ts(MON), rahasia=True)], "m")
    rows = [version("A", "verified", ts(TUE), rahasia=True), version("C", "verified", ts(TUE))]
    done = publish(wh, TUE, rows, "t", quarantined=["A", "B", "C"])
    assert done["quarantined_text_withdrawn"] == 2  # A: a rahasia version; C: its current row
    assert quarantined(wh, TUE) == [
        ("A", without_text("A")),  # the id, the status and the number stay
        ("B", with_text("B")),
        ("C", without_text("C")),
    ]


def test_a_quarantined_row_of_a_rahasia_complaint_without_a_version_that_day_loses_text(wh):
    """The day brings no version of C: its rahasia current row is found in the source's files."""
    rows = [version("C", "received", ts(MON), rahasia=True), version("K", "received", ts(MON))]
    publish(wh, MON, rows, "m")
    done = publish(wh, TUE, [version("D", "received", ts(TUE))], "t", quarantined=["C", "K", "U"])
    assert done["quarantined_text_withdrawn"] == 1
    assert quarantined(wh, TUE) == [
        ("C", without_text("C")),
        ("K", with_text("K")),  # current, not rahasia
        ("U", with_text("U")),  # no current row
    ]


def test_quarantined_rows_of_a_complaint_marked_rahasia_later_lose_their_text(wh):
    """Other days' quarantined rows go too, when the flag turns on: also for a complaint whose
    earlier rows were all quarantined (it has no current row yet)."""
    # two days before A was submitted (MON): not read
    publish(wh, SAT, [], "s", quarantined=["A"])
    publish(wh, MON, [version("A", "received", ts(MON))], "m", quarantined=["A", "B", "N"])
    publish(wh, TUE, [version("B", "received", ts(MON))], "t", quarantined=["A"])
    sat = layout.day_file(layout.QUARANTINE, SOURCE, SAT)
    before = wh.storage.path(sat).stat().st_ino
    marked = [
        version("A", "verified", ts(WED), rahasia=True),
        version("N", "verified", ts(WED), rahasia=True),
    ]
    done = publish(wh, WED, marked, "w")
    assert done["quarantined_text_withdrawn"] == 3
    assert quarantined(wh, MON) == [
        ("A", without_text("A")),
        ("B", with_text("B")),
        ("N", without_text("N")),
    ]
    assert quarantined(wh, TUE) == [("A", without_text("A"))]
    assert wh.storage.path(sat).stat().st_ino == before
    assert quarantined(wh, SAT) == [("A", with_text("A"))]
    # the flag already on: no other day's quarantine is read again
    files = wh.storage.list_files(layout.QUARANTINE)
    inodes = {f: wh.storage.path(f).stat().st_ino for f in files}
    done = publish(wh, THU, [version("A", "in_process", ts(THU), rahasia=True)], "h")
    assert done["quarantined_text_withdrawn"] == 0
    assert {f: wh.storage.path(f).stat().st_ino for f in files} == inodes


def test_without_raw_text_a_quarantined_row_loses_its_whole_raw(wh):
    rows = [version("A", "verified", ts(MON), rahasia=True)]
    publish(wh, MON, rows, "m", raw_text=None, quarantined=["A", "B"])
    assert quarantined(wh, MON) == [("A", None), ("B", with_text("B"))]


def test_a_quarantined_row_s_json_keeps_what_is_not_text():
    text = RAW_TEXT.json_without_text(
        json.dumps({"id_aduan": "A", "status": "x", "judul": "ti\u00e9", "n": 1.5, "b": True})
    )
    assert json.loads(text) == {"id_aduan": "A", "status": "x", "judul": None, "n": 1.5, "b": True}
    assert text.isascii()
    assert RAW_TEXT.json_without_text("not json") is None
    assert RAW_TEXT.json_without_text('["a list"]') is None


def _old_warehouse(wh, monkeypatch):
    """A warehouse written before publishes withdrew text: A's day-1 text is still there."""
    from complaints.warehouse.withdraw import Withdrawal

    with monkeypatch.context() as m:
        m.setattr(Withdrawal, "__bool__", lambda self: False)
        m.setattr("complaints.warehouse.withdraw.marked", lambda *a: pa.array([], pa.string()))
        m.setattr(
            "complaints.warehouse.withdraw.quarantine_targets",
            lambda *a: pa.table({"complaint_id": pa.array([], pa.string())}),
        )
        publish(
            wh,
            MON,
            [version("A", "received", ts(MON)), version("B", "received", ts(MON))],
            "m",
            quarantined=["A", "B"],
        )
        publish(wh, TUE, [version("A", "verified", ts(TUE), rahasia=True)], "t")
        publish(wh, WED, [version("C", "received", ts(WED), rahasia=True)], "w")
    assert history(wh, MON)[0] == ("A", 0, "Jalan rusak", "isi A received")
    assert quarantined(wh, MON)[0] == ("A", with_text("A"))


def test_a_sweep_applies_the_rule_to_a_warehouse_written_before_it(wh, monkeypatch):
    _old_warehouse(wh, monkeypatch)
    done = wh.withdraw_text(SOURCE, RAW_TEXT)
    assert (done["history_files"], done["versions_text_withdrawn"]) == (3, 1)
    assert done["quarantined_text_withdrawn"] == 1
    # MON's history, raw and quarantine
    assert (done["files_written"], done["files_deleted"]) == (3, 0)
    assert quarantined(wh, MON) == [("A", without_text("A")), ("B", with_text("B"))]
    assert history(wh, MON) == [("A", 0, None, None), ("B", 1, "Jalan rusak", "isi B received")]
    assert raw_text(wh, MON)[0] == ("A", None, None, "received")
    assert raw_text(wh, MON)[1][1] == "Jalan rusak"
    # nothing left to do: a second sweep changes no file
    files = layout.HISTORY, layout.RAW, layout.QUARANTINE
    before = {f: wh.storage.path(f).stat().st_ino for t in files for f in wh.storage.list_files(t)}
    assert wh.withdraw_text(SOURCE, RAW_TEXT)["versions_text_withdrawn"] == 0
    after = {f: wh.storage.path(f).stat().st_ino for t in files for f in wh.storage.list_files(t)}
    assert after == before
    assert wh.withdraw_text("kab-9999")["history_files"] == 0
    assert_current_is_latest_history(wh)


def test_the_withdraw_text_command_sweeps_every_published_source(wh, monkeypatch):
    from typer.testing import CliRunner

    from complaints.cli import app

    _old_warehouse(wh, monkeypatch)
    result = CliRunner().invoke(app, ["warehouse", "withdraw-text"])
    assert result.exit_code == 0, result.output
    assert f"{SOURCE}: 1 versions, 1 quarantined rows" in result.output
    assert "text withdrawn from 1 versions and 1 quarantined rows" in result.output
    assert history(wh, MON)[0] == ("A", 0, None, None)
