"""The fast paths of timeparse (``timeparse_fast``) give exactly what the general paths give.

Each fast path is compared with the general path it stands in for (``fast=False``) and, end to
end, with the per-value reference in test_timeparse, on values generated around the edges:
fields at and past their ranges, at full width or not, Feb 29, years 0000/0001/9999, spaces
around and inside, other shapes and nulls mixed in, sliced and chunked arrays.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_timeparse import ZONES, reference_parse

from complaints import timeparse
from complaints import timeparse_fast as fast_path
from complaints.timeparse import NAT, parse_timestamps

FILE_FORMATS = ["id_long", "%d/%m/%Y %H:%M", "%d/%m/%Y", "epoch", "iso8601"]
NUMERIC_PATTERNS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%y %H.%M.%S",
    "%m/%d/%Y %H:%M:%S",
    "%H:%M %d.%m.%Y",
    "%y%m%d%H%M%S",  # nothing between the fields
    "%dT%m%%%Y",
    "%d  %m\t%Y",
    "%d/%m/%Y ",
)
#: patterns pandas parses with its ISO parser (``_strptime_regex`` leaves them to it); their
#: full-width values are computed column-wise too (``_pandas_strptime_fixed``)
ISO_PATTERNS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y%m%d")
#: values around each directive's edges
EDGES = {
    "d": [0, 1, 9, 10, 28, 29, 30, 31, 32, 99],
    "m": [0, 1, 2, 4, 9, 10, 12, 13, 99],
    "Y": [0, 1, 99, 1899, 1900, 1963, 1964, 1969, 2000, 2023, 2024, 2100, 9998, 9999],
    "y": [0, 1, 68, 69, 99],
    "H": [0, 1, 9, 10, 19, 20, 23, 24, 25, 99],
    "M": [0, 9, 10, 59, 60, 99],
    "S": [0, 9, 59, 60, 61, 62, 99],
}
#: how a number is written: full width, without leading zeros, space-padded, one digit more
STYLES = ("full", "full", "full", "plain", "space", "wide")


def written(number: int, directive: str, style: str) -> str:
    width = 4 if directive == "Y" else 2
    if style == "full":
        return f"{number:0{width}d}"[-width:]
    if style == "plain":
        return str(number)
    if style == "space":
        return f"{number:{width}d}"[-width:]
    return f"{number:0{width + 1}d}"


def number(directive: str) -> st.SearchStrategy[int]:
    return st.sampled_from(EDGES[directive]) | st.integers(0, 9999 if directive == "Y" else 99)


def field(directive: str) -> st.SearchStrategy[str]:
    return st.builds(written, number(directive), st.just(directive), st.sampled_from(STYLES))


@st.composite
def pattern_value(draw, pattern: str) -> str:
    """A value written for ``pattern``: half of them with every field at full width, the
    others not; sometimes with spaces around, a different separator or another letter case."""
    full_width = draw(st.booleans())
    text = ""
    for i, part in enumerate(re.split(r"(%.?)", pattern)):
        if i % 2 == 0:
            text += draw(st.sampled_from([part] * 6 + [part.swapcase(), part.replace("/", "-")]))
        elif part == "%%":
            text += "%"
        elif full_width:
            text += written(draw(number(part[1])), part[1], "full")
        else:
            text += draw(field(part[1]))
    around = st.sampled_from(["", "", "", "", "", " ", "\t", "0"])
    return draw(around) + text + draw(around)


ID_LONG_WORDS = [*timeparse.ID_MONTHS, "Juni", "JUNI", "Agt", "Sept", "Septemberr", "Foo", "x"]


@st.composite
def id_long_value(draw) -> str:
    day = str(draw(st.sampled_from([0, 1, 5, 9, 10, 29, 31, 32, 99])))
    day = draw(st.sampled_from([day, day.zfill(2)]))
    word = draw(st.sampled_from(ID_LONG_WORDS))
    word = draw(st.sampled_from([word, word.upper(), word.capitalize()]))
    year = draw(st.sampled_from([0, 1, 1963, 1964, 2023, 2024, 9999]) | st.integers(0, 9999))
    hour, minute = draw(st.integers(0, 99)), draw(st.integers(0, 99))
    sep = draw(st.sampled_from([" ", " ", " ", "-", "  "]))
    tail = draw(st.sampled_from(["", "", "", " WITA", " wib", ":30", " pukul", " CET"]))
    return f"{day}{sep}{word} {year:04d} {hour:02d}:{minute:02d}{tail}"


OTHER_VALUES = st.sampled_from(
    ["1655881500", "2022-06-22T07:05:00Z", "2022-06-22 14:05", "NaT", "kemarin", "22/06/2022"]
)


def as_array(values: list[str | None], skip: int, chunks: bool) -> pa.Array | pa.ChunkedArray:
    """``values`` as a string array that is a slice (``skip`` values before it) or chunked."""
    array = pa.array(["31/12/1999 23:59"] * skip + values, pa.string()).slice(skip)
    if chunks and len(values) > 1:
        return pa.chunked_array([array.slice(0, len(values) // 2), array.slice(len(values) // 2)])
    return array


def assert_fast_as_general_and_reference(values, formats, zone):
    fast, fast_failed = parse_timestamps(values, formats, zone)
    general, general_failed = parse_timestamps(values, formats, zone, fast=False)
    want, want_failed = reference_parse(values, formats, zone)
    texts = values.to_pylist()
    fast_us, general_us = fast.cast(pa.int64()).to_pylist(), general.cast(pa.int64()).to_pylist()
    want_us = want.cast(pa.int64()).to_pylist()
    bad = [(v, f, g) for v, f, g in zip(texts, fast_us, general_us, strict=True) if f != g]
    assert not bad, bad[:10]
    bad = [(v, f, w) for v, f, w in zip(texts, fast_us, want_us, strict=True) if f != w]
    assert not bad, bad[:10]
    assert fast_failed.tolist() == general_failed.tolist() == want_failed.tolist()


# -- numeric strptime patterns -------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(data=st.data(), zone=st.sampled_from(ZONES), skip=st.integers(0, 3), chunks=st.booleans())
def test_numeric_patterns_as_general_path_and_reference(data, zone, skip, chunks):
    pattern = data.draw(st.sampled_from(NUMERIC_PATTERNS + ISO_PATTERNS))
    value = pattern_value(pattern) | id_long_value() | OTHER_VALUES | st.none()
    values = data.draw(st.lists(value, min_size=1, max_size=40))
    array = as_array(values, skip, chunks)
    assert_fast_as_general_and_reference(array, [pattern], zone)
    assert_fast_as_general_and_reference(array, ["id_long", pattern, "epoch", "iso8601"], zone)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_full_width_fields_are_what_the_general_regex_extracts(data):
    """What the fast path takes, the general regex matches whole, with the same fields."""
    pattern = data.draw(st.sampled_from(NUMERIC_PATTERNS))
    values = data.draw(st.lists(pattern_value(pattern) | st.none(), min_size=1, max_size=40))
    array = as_array(values, data.draw(st.integers(0, 3)), chunks=False)
    taken, fields = fast_path.fixed_width_fields(array, pattern)
    form, _, length = fast_path.fixed_form(pattern)
    for value, took in zip(values, taken.tolist(), strict=True):
        assert took == (value is not None and re.fullmatch(form[1:-1], value) is not None)
        assert not took or len(value) == length
    extracted = pc.extract_regex(array.filter(taken), timeparse._strptime_regex(pattern))
    assert extracted.null_count == 0
    whole = pc.binary_length(extracted.field("all")).to_numpy(zero_copy_only=False)
    assert (whole == length).all()
    for name, numbers in fields.items():
        assert pc.cast(extracted.field(name), pa.int64()).to_pylist() == numbers.tolist()


@pytest.mark.parametrize("pattern", NUMERIC_PATTERNS + ISO_PATTERNS)
def test_edge_grid_at_full_width_as_general_path(pattern):
    """Every directive's edge values, combined at random, at full width."""
    rng = np.random.default_rng(len(pattern))
    parts = re.split(r"(%.?)", pattern)
    values = []
    for _ in range(3000):
        text = ""
        for i, part in enumerate(parts):
            if i % 2 == 0 or part == "%%":
                text += part if i % 2 == 0 else "%"
            else:
                text += written(int(rng.choice(EDGES[part[1]])), part[1], "full")
        values.append(text)
    array = pa.array(values)
    taken, _ = fast_path.fixed_width_fields(array, pattern)
    assert taken.sum() > 300  # the fast path is what is tested
    for zone in ("Asia/Jakarta", "UTC"):
        fast = timeparse._strptime(array, pattern, zone)
        general = timeparse._strptime(array, pattern, zone, fast=False)
        bad = [(v, f, g) for v, f, g in zip(values, fast, general, strict=True) if f != g]
        assert not bad, bad[:10]


def test_iso_like_patterns_leave_year_zero_and_other_shapes_to_pandas(monkeypatch):
    values = ["2026-10-30 10:15:00", "0000-10-30 10:15:00", "2026-10-30T10:15:00", None,
              "2026-10-30 10:15:60", "2026-02-30 10:15:00", "2026-1-30 10:15:00"]  # fmt: skip
    to_pandas = []
    pandas_strptime = timeparse._pandas_strptime

    def spy(text, pattern, zone):
        to_pandas.extend(text.to_pylist())
        return pandas_strptime(text, pattern, zone)

    monkeypatch.setattr(timeparse, "_pandas_strptime", spy)
    got = timeparse._strptime(pa.array(values), "%Y-%m-%d %H:%M:%S", "Asia/Makassar")
    assert to_pandas == ["0000-10-30 10:15:00", "2026-10-30T10:15:00", None, "2026-1-30 10:15:00"]
    want = timeparse._strptime(pa.array(values), "%Y-%m-%d %H:%M:%S", "Asia/Makassar", False)
    assert got.tolist() == want.tolist()
    wita = dt.timezone(dt.timedelta(hours=8))
    assert got[0] == dt.datetime(2026, 10, 30, 10, 15, tzinfo=wita).timestamp() * 1_000_000
    assert got[4] == dt.datetime(2026, 10, 30, 10, 16, tzinfo=wita).timestamp() * 1_000_000
    assert got[5] == NAT and got[0] != NAT and got[1] != NAT  # year 0: pandas' ISO parser


def test_full_width_forms():
    form = fast_path.fixed_form("%d/%m/%Y %H:%M")
    assert form[1:] == ({"d": 0, "m": 3, "Y": 6, "H": 11, "M": 14}, 16)
    assert fast_path.fixed_form("%dT%m%%%Y")[1:] == ({"d": 0, "m": 3, "Y": 6}, 10)
    assert fast_path.fixed_form("%d %b %Y") is None
    values = pa.array(["22/06/2022 14:05", "2/06/2022 14:05", "22/06/2022  14:05", None])
    taken, fields = fast_path.fixed_width_fields(values.slice(0), "%d/%m/%Y %H:%M")
    assert taken.tolist() == [True, False, False, False]
    assert {k: v.tolist() for k, v in fields.items()} == {
        "d": [22], "m": [6], "Y": [2022], "H": [14], "M": [5]
    }  # fmt: skip


def test_edge_dates_as_general_path():
    days = [f"{d:02d}/{m:02d}/{y:04d} {h:02d}:{mi:02d}" for d in (0, 1, 28, 29, 30, 31, 32)
            for m in (0, 1, 2, 12, 13) for y in (0, 1, 1900, 2000, 2023, 2024, 9999)
            for h, mi in ((0, 0), (23, 59), (24, 0), (23, 60))]  # fmt: skip
    for zone in ZONES:
        assert_fast_as_general_and_reference(pa.array(days), FILE_FORMATS, zone)
    got, _ = parse_timestamps(
        pa.array(["29/02/2024 10:00", "29/02/2023 10:00"]), FILE_FORMATS, "UTC"
    )
    assert got.to_pylist() == [dt.datetime(2024, 2, 29, 10, tzinfo=dt.UTC), None]


# -- "22 Juni 2022 14:05" ------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(id_long_value() | OTHER_VALUES | st.none(), min_size=1, max_size=40),
    zone=st.sampled_from(ZONES),
    skip=st.integers(0, 3),
    chunks=st.booleans(),
)
def test_id_long_as_general_path_and_reference(values, zone, skip, chunks):
    assert_fast_as_general_and_reference(as_array(values, skip, chunks), FILE_FORMATS, zone)


def test_id_long_simple_fields():
    values = pa.array(["x", "5 Juni 2022 14:05", "22 agt 0000 23:59", "01 SEPTEMBER 9999 00:00"])
    fields = fast_path.id_long_simple_fields(values.slice(1))
    assert fields["day"].tolist() == [5, 22, 1]
    assert fields["month"].to_pylist() == ["Juni", "agt", "SEPTEMBER"]
    assert fields["year"].tolist() == [2022, 0, 9999]
    assert fields["hour"].tolist() == [14, 23, 0]
    assert fields["minute"].tolist() == [5, 59, 0]


#: ``ID_LONG_RE`` values in the characters where Python's and RE2's \s and $ agree
ID_LONG_RE_VALUES = st.from_regex(
    timeparse.ID_LONG_RE,
    fullmatch=True,
    alphabet=st.characters(codec="ascii", exclude_characters="\x0b\x1c\x1d\x1e\x1f"),
).filter(lambda value: not value.endswith("\n"))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(ID_LONG_RE_VALUES, min_size=1, max_size=20))
def test_every_id_long_value_passes_the_quick_check(values):
    """The fast path extracts only values ``ID_LONG_START_RE`` matches: it must match every
    value ``ID_LONG_RE`` matches (both in RE2, as pyarrow runs them)."""
    array = pa.array(values, pa.string())
    assert pc.all(pc.match_substring_regex(array, timeparse.ID_LONG_RE)).as_py()
    assert pc.all(pc.match_substring_regex(array, timeparse.ID_LONG_START_RE)).as_py()


# -- the calendar and the zones ------------------------------------------------------------
def datetime64_wall_clock(year, month, day, hour, minute, second, *, min_year):
    """The wall clock as computed before, with numpy's datetime64 calendar."""
    month_start = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    days = month_start.astype("datetime64[D]").astype(np.int64) + day - 1
    month_days = ((month_start + 1).astype("datetime64[D]") - month_start).astype(np.int64)
    valid = (year >= min_year) & (day >= 1) & (day <= month_days)
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    return np.where(valid, seconds, NAT)


@pytest.mark.parametrize("min_year", [0, 1])
def test_wall_clock_every_date(min_year):
    """Every year 0-9999, month and day -1..33 (times past their range carry over)."""
    rng = np.random.default_rng(min_year)
    valid = 0
    for years in np.split(np.arange(10000), 4):
        year, month, day = (a.ravel() for a in np.meshgrid(years, range(1, 13), range(-1, 34)))
        time = [rng.integers(0, 100, len(year)) for _ in range(3)]
        got = timeparse._wall_clock(year, month, day, *time, min_year=min_year)
        assert np.array_equal(
            got, datetime64_wall_clock(year, month, day, *time, min_year=min_year)
        )
        valid += (got != NAT).sum()
    leap_years = 2425 if min_year == 0 else 2424  # year 0 is one
    assert valid == (10000 - min_year) * 365 + leap_years


def seconds(text: str) -> int:
    return int(np.datetime64(text, "s").astype(np.int64))


@pytest.mark.parametrize("zone", [*ZONES, "Asia/Pontianak", "Europe/Berlin", "Etc/GMT-7"])
def test_local_to_utc_as_pandas(zone):
    rng = np.random.default_rng(7)
    probes = [
        rng.integers(seconds("0000-01-01"), seconds("10000-01-01"), 20000),
        np.arange(seconds("1900-01-01"), seconds("1970-01-01"), 3600 * 7 + 61),
        np.arange(seconds("1963-12-30"), seconds("1964-01-03"), 60),
        np.arange(seconds("1945-09-20"), seconds("1945-09-24"), 60),
        np.arange(seconds("2026-03-28"), seconds("2026-03-30"), 60),
        np.array([NAT, seconds("0001-01-01"), seconds("9999-12-31T23:59:59")]),
    ]
    span = fast_path.fixed_offset(zone)
    if span is not None:
        probes.append(np.arange(span[0] - 3 * 86400, span[0] + 3 * 86400, 60))
        probes.append(np.arange(span[1] - 86400, span[1] + 86400 * 300, 599))
    values = np.concatenate(probes)
    assert np.array_equal(fast_path.to_utc(values, zone), fast_path.pandas_to_utc(values, zone))
    # past 9999 (hours carried over): pandas localises in a fixed zone, refuses in another
    late = np.array([seconds("9999-12-31T23:00"), seconds("10000-01-04T03:39:39")])
    try:
        want = fast_path.pandas_to_utc(late, zone)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            fast_path.to_utc(late, zone)
    else:
        assert np.array_equal(fast_path.to_utc(late, zone), want)


def test_fixed_offsets():
    jakarta = fast_path.fixed_offset("Asia/Jakarta")
    assert jakarta[2] == 7 * 3600
    assert jakarta[0] == seconds("1963-12-31T16:30") + 86400  # last change: +07:30 -> +07:00
    assert fast_path.fixed_offset("Asia/Makassar")[2] == 8 * 3600
    assert fast_path.fixed_offset("Asia/Jayapura")[2] == 9 * 3600
    assert fast_path.fixed_offset("UTC") == (seconds("0001-01-02"), seconds("9999-01-01"), 0)
    assert fast_path.fixed_offset("Europe/Berlin") is None  # DST
    assert fast_path.fixed_offset("Nowhere/Atlantis") is None
    # before the first plain second: the old offsets, and 1963-12-31 23:45 was there twice
    before = np.array([seconds("1963-12-31T23:45"), seconds("1950-06-01T12:00")])
    assert fast_path.to_utc(before, "Asia/Jakarta").tolist() == [
        NAT, (seconds("1950-06-01T12:00") - 27000) * 1_000_000
    ]  # fmt: skip


# -- the Arrow buffers ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_value_bytes_of_slices(kind):
    values = ["22/06/2022 14:05", "", None, "5 Juni 2022 09:30", "é"]
    array = pa.array(values, kind)
    for start in range(len(values) + 1):
        for stop in range(start, len(values) + 1):
            offsets, data = fast_path.value_bytes(array.slice(start, stop - start))
            got = [bytes(data[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
            assert got == [(v or "").encode() for v in values[start:stop]]
