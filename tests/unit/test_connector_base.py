"""Connector building blocks: the window, value-to-text rules, Retry-After, sniffing, JSON
stream."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace as NS

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.connectors import SourceError, Window, open_connector
from complaints.connectors.base import (
    UpdatedTracker,
    iso_utc,
    records_to_table,
    text_array,
    to_text,
)
from complaints.connectors.file_formats import (
    FileStats,
    UnreadableFile,
    clean_header,
    read_json,
    sniff_delimiter,
)
from complaints.connectors.http import parse_retry_after


@pytest.mark.parametrize(
    "tz,start,end",
    [
        ("Asia/Jakarta", "2026-10-04T17:00:00Z", "2026-10-05T17:00:00Z"),
        ("Asia/Makassar", "2026-10-04T16:00:00Z", "2026-10-05T16:00:00Z"),
        ("Asia/Jayapura", "2026-10-04T15:00:00Z", "2026-10-05T15:00:00Z"),
    ],
)
def test_window_is_the_local_day_in_utc(tz, start, end):
    window = Window.for_day(date(2026, 10, 5), tz, cursor="c")
    assert (window.start_iso, window.end_iso) == (start, end)
    assert window.start.tzinfo is not None and window.cursor == "c"
    assert window.local_bounds() == (datetime(2026, 10, 5), datetime(2026, 10, 6))


def test_window_rejects_an_unknown_time_zone():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        Window.for_day(date(2026, 10, 5), "Mars/Olympus")


@pytest.mark.parametrize(
    "value,text",
    [
        (None, None),
        ("x", "x"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (4.5, "4.5"),
        (Decimal("1.10"), "1.10"),
        ({"a": [1, "é"]}, '{"a": [1, "é"]}'),
        ([1, 2], "[1, 2]"),
        (datetime(2026, 10, 5, 8, 0), "2026-10-05 08:00:00"),
        (b"abc", "abc"),
    ],
)
def test_values_become_text(value, text):
    assert to_text(value) == text


@settings(deadline=None)  # the first call imports and warms up Arrow's converters
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(),
            st.integers(),
            st.booleans(),
            st.floats(allow_nan=True),
            st.binary(max_size=8),
        ),
        max_size=30,
    ),
    st.sampled_from(["any", "text", "int"]),
)
def test_text_array_is_to_text_of_every_value(values, only):
    """Columns of texts or of integers (with nulls) are converted by Arrow: the same texts."""
    if only == "text":
        values = [v if v is None or isinstance(v, str) else str(v) for v in values]
    elif only == "int":  # bools are not ints here: they become true/false
        values = [v if v is None or type(v) is int else len(str(v)) for v in values]
    assert text_array(values).to_pylist() == [to_text(v) for v in values]


def test_records_to_table_unions_columns_and_nulls_the_absent():
    table = records_to_table([{"a": 1}, {"b": True}], extra={"_file": "f.json"})
    assert table.column_names == ["a", "b", "_file"]
    assert table.to_pylist() == [
        {"a": "1", "b": None, "_file": "f.json"},
        {"a": None, "b": "true", "_file": "f.json"},
    ]


def test_updated_tracker_reports_utc_and_falls_back_to_text():
    tracker = UpdatedTracker("Asia/Makassar", naive_is="local")
    tracker.observe(["2026-10-05 10:00:00", "2026-10-05T03:00:00Z", None, ""])
    assert tracker.value == "2026-10-05T03:00:00Z"  # 10:00 WITA is 02:00 UTC
    text = UpdatedTracker("Asia/Jakarta")
    text.observe(["5 Oktober", "6 Oktober"])
    assert text.value == "6 Oktober"
    assert iso_utc(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


_UPDATED_TEXTS = st.one_of(
    st.none(),
    st.just(""),
    st.builds(
        lambda d, h, m, s, frac, sep, suffix, pad: (
            f"{pad}2026-{d}T{h:02d}:{m:02d}:{s:02d}{frac}{suffix}{pad}".replace("T", sep)
        ),
        st.sampled_from(["03-29", "10-25", "10-30", "02-30", "13-01"]),  # DST days, invalid dates
        st.integers(0, 24),
        st.integers(0, 59),
        st.integers(0, 59),
        st.sampled_from(["", ".5", ".123456", ",25"]),
        st.sampled_from(["T", " "]),
        st.sampled_from(["", "Z", "+07:00", "-0330", " +09:00"]),
        st.sampled_from(["", " "]),
    ),
    st.sampled_from(
        [
            "2026-10-30",
            "30/10/2026 10:00",
            "5 Oktober",
            "kemarin",
            "0000-01-01",
            "0001-01-01T00:00Z",
            "9999-12-31 23:59",
        ]
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    batches=st.lists(st.lists(_UPDATED_TEXTS, max_size=12), min_size=1, max_size=3),
    zone=st.sampled_from(["Asia/Jakarta", "Asia/Jayapura", "Europe/Berlin"]),
    naive_is=st.sampled_from(["local", "utc"]),
)
def test_updated_tracker_column_path_reports_what_one_by_one_does(batches, zone, naive_is):
    """A file source's column goes through ``observe_column`` (vectorised ISO parsing); the
    result is the one-by-one ``observe``'s, also for offsets, padding, invalid dates, texts
    that are not ISO and a zone with daylight saving time."""
    one_by_one = UpdatedTracker(zone, naive_is=naive_is)
    by_column = UpdatedTracker(zone, naive_is=naive_is)
    for batch in batches:
        one_by_one.observe(batch)
        by_column.observe_column(pa.array(batch, type=pa.string()))
    assert by_column.value == one_by_one.value


def test_retry_after_seconds_and_http_date():
    now = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Mon, 05 Oct 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 05 Oct 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    "line,default,expected",
    [
        ("a,b,c", ",", ","),
        ("a;b;c", ",", ";"),
        ("a\tb\tc", ",", "\t"),
        ("a|b|c", ",", "|"),
        ('"x,y";b;c', ",", ";"),
        ("single", "\t", "\t"),
        ("a,b\tc", "\t", "\t"),  # a tie keeps the extension's default
    ],
)
def test_sniff_delimiter(line, default, expected):
    assert sniff_delimiter(line, default) == expected


def test_clean_header_makes_names_unique():
    assert clean_header([" Nomor ", "", "Nomor", None, None]) == ["Nomor", "column_2", "Nomor_2"]


def test_json_stream_crosses_chunk_boundaries(tmp_path):
    records = [{"id": i, "n": 10**12 + i, "text": "é" * (i % 50)} for i in range(5000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"meta": {"x": [1, {"y": "]"}]}, "data": records, "z": 1}))
    stats = FileStats()
    batches = list(read_json(path, 2000, stats))
    assert [b.num_rows for b in batches] == [2000, 2000, 1000]
    rows = [r for b in batches for r in b.to_pylist()]
    assert rows[-1] == {"id": "4999", "n": str(10**12 + 4999), "text": "é" * 49}
    assert stats.rows == 5000


def test_json_array_of_non_objects_is_unreadable(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(UnreadableFile, match="element 0 is a JSON int"):
        list(read_json(path, 10, FileStats()))


def test_open_connector_rejects_an_unknown_kind(settings):
    bad = NS(id="x-1", timezone="Asia/Jakarta", connector=NS(kind="ftp", conn_id=None, options={}))
    with pytest.raises(SourceError, match="unknown connector kind 'ftp'"):
        open_connector(bad, settings)


def test_bad_numeric_option_is_a_source_error(settings):
    bad = NS(
        id="x-1",
        timezone="Asia/Jakarta",
        connector=NS(kind="file", conn_id=None, options={"batch_rows": "many"}),
    )
    with pytest.raises(SourceError, match="option batch_rows must be a number"):
        open_connector(bad, settings)


def test_source_error_carries_the_source_id():
    err = SourceError("prov-31", "went wrong")
    assert (err.source_id, err.message, str(err)) == (
        "prov-31",
        "went wrong",
        "source prov-31: went wrong",
    )
