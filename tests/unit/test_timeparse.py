"""parse_timestamps gives exactly what the per-value pandas implementation gave.

The reference below is the implementation before distinct values were parsed once and dates were
assembled column-wise (every value through each format in turn, strptime patterns through
``pd.to_datetime(format=..., exact=True)``, Indonesian dates through ``pd.to_datetime(frame)``). It
is compared with the real one on the simulator's three export shapes, on hand-picked edge cases and
on generated strings.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints import timeparse
from complaints.config import INCLUDE_DIR
from complaints.simulate import exports, model
from complaints.timeparse import NAT, parse_timestamps

MAPPINGS = yaml.safe_load((INCLUDE_DIR / "registry" / "mappings.yaml").read_text())["mappings"]
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC")
PATTERNS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%y %H.%M.%S",
    "%m/%d/%Y %I:%M %p",  # left to pandas: %I, %p
    "%Y-%m-%d %H:%M:%S",  # left to pandas: ISO-like
    "%d %b %Y",  # left to pandas: %b
    "%dT%m%%%Y",
    "%d  %m\t%Y",
    "%dk%m/%Y",
)


def reference_id_long(text, naive_tz):
    out = np.full(len(text), NAT, dtype=np.int64)
    extracted = pc.extract_regex(text, timeparse.ID_LONG_RE)
    ok = pc.is_valid(extracted).to_numpy(zero_copy_only=False)
    if not ok.any():
        return out
    extracted = extracted.filter(ok)
    part = {f.name: extracted.field(i) for i, f in enumerate(extracted.type)}
    month = pc.take(
        pa.array(list(timeparse.ID_MONTHS.values()), pa.int64()),
        pc.index_in(pc.utf8_lower(part["month"]), value_set=pa.array(list(timeparse.ID_MONTHS))),
    )
    zone_word = pc.utf8_lower(pc.if_else(pc.equal(part["zone"], ""), None, part["zone"]))
    words = timeparse.ZONE_WORDS
    zone = pc.take(
        pa.array(list(words.values())), pc.index_in(zone_word, value_set=pa.array(list(words)))
    )
    known = pc.and_(pc.is_valid(month), pc.or_(pc.is_null(zone_word), pc.is_valid(zone)))

    def number(name):
        values = pc.if_else(pc.equal(part[name], ""), "0", part[name])
        return pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False)

    frame = pd.DataFrame(
        {
            "year": number("year"),
            "month": pc.fill_null(month, 1).to_numpy(zero_copy_only=False),
            "day": number("day"),
            "hour": number("hour"),
            "minute": number("minute"),
            "second": number("second"),
        }
    )
    naive = pd.to_datetime(frame, errors="coerce")
    zones = pc.fill_null(zone, naive_tz).to_numpy(zero_copy_only=False)
    local = np.full(len(frame), NAT, dtype=np.int64)
    for tz in np.unique(zones):
        pick = zones == tz
        local[pick] = timeparse._localise(naive[pick], str(tz))
    local[~known.to_numpy(zero_copy_only=False)] = NAT
    out[ok] = local
    return out


def reference_parse(values, formats, naive_tz):
    text = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    text = text.cast(pa.string())
    result = np.full(len(text), NAT, dtype=np.int64)
    todo = pc.is_valid(text).to_numpy(zero_copy_only=False).copy()
    for fmt in formats:
        if not todo.any():
            break
        where = np.flatnonzero(todo)
        sub = text.filter(todo)
        if fmt == "iso8601":
            parsed = timeparse._iso(sub, naive_tz)
        elif fmt in ("epoch", "epoch_ms"):
            parsed = timeparse._epoch(sub, "s" if fmt == "epoch" else "ms")
        elif fmt == "id_long":
            parsed = reference_id_long(sub, naive_tz)
        else:
            parsed = timeparse._pandas_strptime(sub, fmt, naive_tz)
        # pandas' instants, within the years Python's datetime holds (0000-01-01 is not parsed)
        got = (parsed >= timeparse.EARLIEST) & (parsed <= timeparse.LATEST)
        result[where[got]] = parsed[got]
        todo[where[got]] = False
    array = pa.array(result, type=pa.int64(), mask=result == NAT).cast(timeparse.UTC_TS)
    return array, todo


def assert_same(values, formats, naive_tz):
    """parse_timestamps, with and without its fast paths, gives what the reference gives."""
    values = pa.array(values, pa.string()) if isinstance(values, list) else values
    want, want_failed = reference_parse(values, formats, naive_tz)
    texts = values.cast(pa.string()).to_pylist()
    for fast in (True, False):
        got, failed = parse_timestamps(values, formats, naive_tz, fast=fast)
        assert got.type == want.type
        got_us, want_us = got.cast(pa.int64()).to_pylist(), want.cast(pa.int64()).to_pylist()
        mismatch = [(v, g, w) for v, g, w in zip(texts, got_us, want_us, strict=True) if g != w]
        assert not mismatch, (fast, mismatch[:10])
        assert failed.tolist() == want_failed.tolist(), fast


def simulated(day=dt.date(2026, 10, 29)):
    src = SimpleNamespace(
        id="kab-3201",
        level="kabupaten",
        region_code="32.01",
        timezone="Asia/Makassar",
        population=3_000_000,
        connector=SimpleNamespace(kind="file", options={}),
    )
    return model.versions(src, day, day, broken_share=0.3, scale=0.5)


@pytest.mark.parametrize("date_style", exports.DATE_STYLES)
def test_file_export_dates_as_before(date_style):
    table = exports.render_file(simulated(), date_style)
    formats = MAPPINGS["ekspor_berkas"]["timestamps"]["formats"]
    for column in ("Tanggal Lapor", "Tanggal Verifikasi", "Terakhir Diperbarui"):
        values = [v or None for v in table[column]]
        assert len(values) > 100
        assert_same(values, formats, "Asia/Makassar")


def test_sql_and_api_dates_as_before():
    frame = simulated()
    rows = exports.render_sql(frame, "kab-3201", text_timestamps=True)
    sql = [r["tgl_lapor"] for r in rows] + [r["tgl_update"] for r in rows]
    assert_same(sql, MAPPINGS["simpel_db"]["timestamps"]["formats"], "Asia/Makassar")
    api = [u for u, _ in exports.render_api(frame, "Asia/Makassar")]
    assert_same(api, MAPPINGS["lapor_api_v1"]["timestamps"]["formats"], "UTC")


EDGE_CASES = [
    "22/06/2022 14:05",
    "2/6/2022 4:05",
    " 2/06/2022 14:05",
    "22/06/2022\t14:05",
    "22/06/2022   14:05",
    "22/06/2022\x1c14:05",
    "22/06/2022\xa014:05",  # non-ASCII space: pandas' \s matches it
    "٢٢/٠٦/٢٠٢٢ ١٤:٠٥",  # Arabic-Indic digits: pandas' \d matches them
    "22/06/2022 14:05 ",
    "22/06/2022 14:5",
    "22/06/2022 14:056",
    "22/06/2022 24:00",
    "22/06/2022 23:60",
    "29/02/2024 10:00",
    "29/02/2023 10:00",
    "31/04/2022",
    "31/12/9999 23:59",
    "01/01/0001 00:00",
    "01/01/0000",
    "00/01/2022",
    "32/13/2022 25:61",
    "1/1/1900",
    "22-06-22 14.05.60",
    "22-06-69 14.05.61",
    "22-06-68 00.00.00",
    "22T06%2022",
    "22t06%2022",
    "22  06\t2022",
    "1k2/2022",
    "1K2/2022",
    "1\u212a2/2022",  # KELVIN SIGN: pandas matches it with "k", case-insensitively
    "22 06 2022",
    "12/25/2022 01:30 PM",
    "2022-06-22 14:05:00",
    "2022-6-2 4:05:00",
    "22 Jun 2022",
    "22 juni 2022",
    "22 Juni 2022 14:05",
    "5 Agustus 2022 pukul 09.30 WITA",
    "1 Des 2022 08:00 WIT",
    "31 Februari 2022",
    "29 Februari 2024 pukul 23.59",
    "29 Februari 2023",
    "0 Juni 2022",
    "1 Januari 0000 10:00",
    "29 Februari 0000",
    "31 Desember 9999 99:99:99",
    "22 Juni 2022 24:60",
    "22 juni 2022, jam 7.05.30 wib",
    "22-Jun.-2022 07:05 WITA",
    "22 Juni 2022 07:05 CET",
    "1655881500",
    "1655881500123",
    "-1",
    "2022-06-22T07:05:00Z",
    "2022-06-22 14:05:00 +0700",
    "NaT",
    "nan",
    "kemarin sore",
    "",
    None,
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_edge_cases_as_before(pattern, zone):
    assert_same(EDGE_CASES, ["id_long", pattern, "epoch", "iso8601"], zone)
    assert_same(EDGE_CASES, [pattern], zone)


def test_now_and_today_are_still_left_to_pandas():
    got, failed = parse_timestamps(pa.array(["now", "today", "1/1/2022"]), ["%d/%m/%Y"], "UTC")
    want, _ = reference_parse(pa.array(["now", "today", "1/1/2022"]), ["%d/%m/%Y"], "UTC")
    assert not failed.any()
    for g, w in zip(got.to_pylist(), want.to_pylist(), strict=True):
        assert abs(g - w) < dt.timedelta(minutes=1)


def test_repeated_values_nulls_chunks_and_dictionaries():
    values = ["22/06/2022 14:05", None, "bad", "22/06/2022 14:05", "5 Juni 2022", "bad", None]
    chunked = pa.chunked_array([values[:3], values[3:]], pa.string())
    formats = ["id_long", "%d/%m/%Y %H:%M"]
    assert_same(chunked, formats, "Asia/Jakarta")
    assert_same(pa.array(values).dictionary_encode(), formats, "Asia/Jakarta")
    assert_same(pa.array([], pa.string()), formats, "Asia/Jakarta")
    assert_same(pa.array([None, None], pa.string()), formats, "Asia/Jakarta")


def test_only_plain_numeric_patterns_are_computed_column_wise():
    assert timeparse._strptime_regex("%d/%m/%Y %H:%M") is not None
    for pattern in ("%Y-%m-%d", "%d %b %Y", "%d/%m/%Y %z", "%d/%d/%Y", "%y/%Y", "%d/%m/%", "é%d"):
        assert timeparse._strptime_regex(pattern) is None


PIECES = st.sampled_from(
    ["0", "1", "2", "3", "9", "12", "29", "31", "60", "2022", "1969", "0000", "9999"]
    + ["/", "-", ".", ":", " ", "  ", "\t", "T", "t", "%", "Juni", "Agt", "pukul", "WITA", "٢"]
)
GENERATED = st.lists(st.lists(PIECES, max_size=12).map("".join), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(values=GENERATED, pattern=st.sampled_from(PATTERNS), zone=st.sampled_from(ZONES))
def test_generated_strings_as_before(values, pattern, zone):
    assert_same(values, ["id_long", pattern, "epoch"], zone)


@settings(max_examples=100, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.integers(0, 32),
            st.integers(0, 13),
            st.integers(0, 2100),
            st.integers(0, 25),
            st.integers(0, 61),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    ),
    zone=st.sampled_from(ZONES),
)
def test_generated_dates_as_before(parts, zone):
    values = [
        f"{d:02d}/{m:02d}/{y:04d} {h}:{mi:02d}" if pad else f"{d}/{m}/{y} {h:02d}:{mi}"
        for d, m, y, h, mi, pad in parts
    ]
    assert_same(values, ["%d/%m/%Y %H:%M", "%d/%m/%Y"], zone)


@settings(max_examples=100, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.integers(0, 40),
            st.sampled_from(["Juni", "JUNI", "agt", "Februari", "Pebruari", "Foo", "des", "x"]),
            st.integers(0, 9999),
            st.integers(0, 99),
            st.integers(0, 99),
            st.sampled_from(["", " WITA", ":30", " pukul", ""]),
        ),
        min_size=1,
        max_size=30,
    ),
    zone=st.sampled_from(ZONES),
)
def test_generated_id_long_dates_as_before(parts, zone):
    """The common "22 Juni 2022 14:05" shape (split, not extracted) mixed with the others."""
    values = [f"{d} {m} {y:04d} {h:02d}:{mi:02d}{tail}" for d, m, y, h, mi, tail in parts]
    assert_same(values, ["id_long", "%d/%m/%Y %H:%M"], zone)


@pytest.mark.parametrize("fast", [True, False])
def test_instants_outside_years_1_to_9999_are_not_parsed(fast):
    """pandas reads "0000-01-01" (and local midnight of 0001-01-01 east of Greenwich is still
    year 0 in UTC); Python's datetime cannot hold it, so such a value is flagged unparsed and
    its row quarantined instead of loaded as year 0. The first and last instants Python holds
    parse."""
    values = pa.array(
        [
            "0000-01-01",
            "1 Januari 0000 10:00",
            "0001-01-01 00:00",
            "1 Januari 0001",
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999Z",
            "9999-12-31 23:59",
        ]
    )
    got, failed = parse_timestamps(values, ["id_long", "iso8601"], "Asia/Jakarta", fast=fast)
    assert failed.tolist() == [True] * 5 + [False] * 3
    assert got.to_pylist()[5:] == [
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 16, 59, tzinfo=dt.UTC),
    ]
