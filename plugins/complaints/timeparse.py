"""Vectorised parsing of the timestamp strings sources send, into UTC instants.

Formats (tried in the order a mapping lists them; a value is taken by the first that parses):
``iso8601`` (``2022-06-22``, ``2022-06-22 14:05``, ``2022-06-22T07:05:00Z``, ``...+07:00``),
``epoch`` (seconds), ``epoch_ms``, strptime patterns (``%d/%m/%Y %H:%M``), and ``id_long``
(Indonesian dates written by people: ``22 Juni 2022 14:05``, ``5 Agt 2022``, ``5 Agustus 2022
pukul 09.30 WITA``). A value without an offset is local time in ``naive_tz`` (a WIB/WITA/WIT
suffix overrides it). Each distinct string is parsed once; work is done per format on the
still-unparsed values, with pyarrow/pandas kernels, never a Python loop per row. The shapes
most values have take the fast paths in ``timeparse_fast`` (same results; ``fast=False``
leaves everything to the general paths, for tests).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints import timeparse_fast as fast_path

UTC_TS = pa.timestamp("us", tz="UTC")

#: lower-case month words (full, abbreviated, old spellings, English) -> month number
ID_MONTHS: dict[str, int] = {}
for _number, _words in enumerate(
    (
        "januari jan january",
        "februari pebruari feb peb february",
        "maret mar march",
        "april apr",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags aug august",
        "september sep sept",
        "oktober okt oct october",
        "november nov nopember nop",
        "desember des dec december",
    ),
    start=1,
):
    for _word in _words.split():
        ID_MONTHS[_word] = _number

ZONE_WORDS = {"wib": "Asia/Jakarta", "wita": "Asia/Makassar", "wit": "Asia/Jayapura"}

ISO_RE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
ISO_OFFSET_RE = ISO_RE + r"\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
ISO_NAIVE_RE = ISO_RE + r"$"
EPOCH_S_RE = r"^-?\d{1,11}(?:\.\d+)?$"
EPOCH_MS_RE = r"^-?\d{1,14}(?:\.\d+)?$"
ID_LONG_RE = (
    r"^(?P<day>\d{1,2})[\s-]+(?P<month>[A-Za-z]+)\.?[\s-]+(?P<year>\d{4})"
    r"(?:,?\s+(?:(?:pukul|jam)\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})"
    r"(?:[:.](?P<second>\d{2}))?)?(?:\s*(?P<zone>[A-Za-z]{3,4}))?$"
)

#: how every ``ID_LONG_RE`` value starts (day, separator, a letter of the month)
ID_LONG_START_RE = r"^\d{1,2}[\s-]+[A-Za-z]"
#: the shape most ``ID_LONG_RE`` values have ("22 Juni 2022 14:05"), read without extraction
ID_LONG_SIMPLE_RE = r"^\d{1,2} [A-Za-z]+ \d{4} \d{2}:\d{2}$"

NAT = np.iinfo(np.int64).min
#: the instants a value may parse to: years 1-9999 in UTC, what Python's datetime (and so
#: pandas' and most Parquet readers' conversions) can hold. "0000-01-01", or "0001-01-01 00:00"
#: local time east of Greenwich, is not parsed: its row is quarantined, not loaded as year 0.
EARLIEST = -62_135_596_800 * 10**6  # 0001-01-01T00:00:00Z in microseconds
LATEST = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def _micros(values: pd.Series) -> np.ndarray:
    """Datetimes (aware UTC) -> int64 microseconds since the epoch, NAT where missing."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy("datetime64[us]").view(np.int64)


def _localise(naive: pd.Series, tz: str) -> np.ndarray:
    """Naive wall-clock times in ``tz`` -> UTC microseconds (Indonesia has no DST)."""
    return _micros(naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT"))


def _matches(text: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(
        zero_copy_only=False
    )


def _iso(text: pa.Array, naive_tz: str) -> np.ndarray:
    out = np.full(len(text), NAT, dtype=np.int64)
    with_offset = _matches(text, ISO_OFFSET_RE)
    naive = _matches(text, ISO_NAIVE_RE)
    if with_offset.any():
        sub = pc.replace_substring_regex(text.filter(with_offset), r"\s+([Zz+-])", r"\1")
        parsed = pd.to_datetime(sub.to_pandas(), format="ISO8601", utc=True, errors="coerce")
        out[with_offset] = _micros(parsed)
    if naive.any():
        parsed = pd.to_datetime(text.filter(naive).to_pandas(), format="ISO8601", errors="coerce")
        out[naive] = _localise(parsed, naive_tz)
    return out


def _epoch(text: pa.Array, unit: str) -> np.ndarray:
    out = np.full(len(text), NAT, dtype=np.int64)
    ok = _matches(text, EPOCH_S_RE if unit == "s" else EPOCH_MS_RE)
    if ok.any():
        numbers = pc.cast(text.filter(ok), pa.float64()).to_numpy(zero_copy_only=False)
        scale = 1_000_000 if unit == "s" else 1_000
        micros = np.round(numbers * scale)
        # beyond what datetime64[us] can hold -> unparsed
        fits = np.abs(micros) < 9.2e18
        micros = np.where(fits, micros, 0).astype(np.int64)
        out[ok] = np.where(fits, micros, NAT)
    return out


def _pandas_strptime(text: pa.Array, pattern: str, naive_tz: str) -> np.ndarray:
    parsed = pd.to_datetime(text.to_pandas(), format=pattern, errors="coerce", exact=True)
    if getattr(parsed.dt, "tz", None) is not None:  # %z in the pattern
        return _micros(parsed)
    return _localise(parsed, naive_tz)


#: the regexes Python's ``_strptime`` (and so pandas) uses for these directives, digits ASCII
STRPTIME_DIRECTIVES = {
    "d": r"3[0-1]|[1-2][0-9]|0[1-9]|[1-9]| [1-9]",
    "m": r"1[0-2]|0[1-9]|[1-9]",
    "Y": r"[0-9]{4}",
    "y": r"[0-9]{2}",
    "H": r"2[0-3]|[0-1][0-9]|[0-9]",
    "M": r"[0-5][0-9]|[0-9]",
    "S": r"6[0-1]|[0-5][0-9]|[0-9]",
}
_PY_SPACE = r"[\t\n\v\f\r \x1c-\x1f]+"  # what pandas' \s+ matches in ASCII text
#: values pandas parses whatever the pattern says (to the current time)
_PANDAS_WORDS = ("now", "today")


def _strptime_regex(pattern: str) -> str | None:
    """RE2 equivalent of the regex pandas matches ``pattern`` with (case-insensitive, at the
    start, the whole match captured as ``all``); None when the pattern is left to pandas (an
    ISO-like pattern, which pandas parses with its C parser, or another directive)."""
    if not pattern.isascii() or pattern.startswith("%Y"):
        return None
    regex, fields = [], set()
    for i, part in enumerate(re.split(r"(%.?)", pattern)):
        directive = part[1:]
        if i % 2 == 0:  # literal text: white space runs match any white space run
            pieces = re.split(r"(\s+)", part)
            regex += [_PY_SPACE if p.isspace() else re.escape(p) for p in pieces if p]
        elif directive == "%":
            regex.append("%")
        elif directive in STRPTIME_DIRECTIVES:
            field = "Y" if directive == "y" else directive
            if field in fields:  # pandas: a group named twice
                return None
            fields.add(field)
            regex.append(f"(?P<{directive}>{STRPTIME_DIRECTIVES[directive]})")
        else:
            return None
    return "(?i)^(?P<all>" + "".join(regex) + ")"


def _strptime(text: pa.Array, pattern: str, naive_tz: str, fast: bool = True) -> np.ndarray:
    """``pd.to_datetime(format=pattern, exact=True)`` then local -> UTC, for day/month/year and
    hour/minute/second patterns computed column-wise; other patterns, and values pandas treats
    specially (non-ASCII digits or spaces, "now", "today"), go through pandas itself. With
    ``fast``, values with every field at full width are read without a regex extraction."""
    regex = _strptime_regex(pattern)
    if regex is None:
        return (
            _pandas_strptime_fixed(text, pattern, naive_tz)
            if fast
            else _pandas_strptime(text, pattern, naive_tz)
        )
    out = np.full(len(text), NAT, dtype=np.int64)
    special = pc.or_(
        pc.invert(pc.string_is_ascii(text)), pc.is_in(text, value_set=pa.array(_PANDAS_WORDS))
    ).to_numpy(zero_copy_only=False)
    if special.any():
        out[special] = _pandas_strptime(text.filter(special), pattern, naive_tz)
    todo = ~special
    fixed = fast_path.fixed_width_fields(text, pattern) if fast else None
    if fixed is not None:
        done, fields = fixed
        keep = todo[done]  # (no full-width value is special: all ASCII, never a word)
        done &= todo
        fields = {name: values[keep] for name, values in fields.items()}
        out[done] = _to_utc(_strptime_wall_clock(fields, int(done.sum())), naive_tz, fast)
        todo &= ~done
    if not todo.any():
        return out
    rest = text.filter(todo)
    extracted = pc.extract_regex(rest, regex)
    whole = pc.equal(pc.binary_length(extracted.field("all")), pc.binary_length(rest))
    ok = pc.fill_null(pc.and_(pc.is_valid(extracted), whole), False).to_numpy(zero_copy_only=False)
    if not ok.any():
        return out
    extracted = extracted.filter(ok)
    fields = {
        f.name: pc.cast(pc.utf8_trim_whitespace(extracted.field(i)), pa.int64()).to_numpy(
            zero_copy_only=False
        )
        for i, f in enumerate(extracted.type)
        if f.name != "all"
    }
    out[np.flatnonzero(todo)[ok]] = _to_utc(
        _strptime_wall_clock(fields, len(extracted)), naive_tz, fast
    )
    return out


def _pandas_strptime_fixed(text: pa.Array, pattern: str, naive_tz: str) -> np.ndarray:
    """A pattern left to pandas (ISO-like: "%Y-%m-%d %H:%M:%S"): values with every field at
    full width and a year from 1 are computed column-wise (pandas' ISO parser reads them as
    strptime does: same dates refused, seconds 60-61 carried; it also takes year 0, which
    strptime refuses, so year 0 stays with pandas), the rest go through pandas. A national
    day's SQL sources spent ~14 ms a source-day in pandas here."""
    fixed = fast_path.fixed_width_fields(text, pattern) if pattern.isascii() else None
    if fixed is None:
        return _pandas_strptime(text, pattern, naive_tz)
    done, fields = fixed
    if "Y" in fields:
        from_year_one = fields["Y"] >= 1
        done[done] = from_year_one
        fields = {name: values[from_year_one] for name, values in fields.items()}
    out = np.full(len(text), NAT, dtype=np.int64)
    out[done] = _to_utc(_strptime_wall_clock(fields, int(done.sum())), naive_tz, True)
    if not done.all():
        rest = ~done
        out[rest] = _pandas_strptime(text.filter(rest), pattern, naive_tz)
    return out


def _strptime_wall_clock(fields: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Naive seconds from strptime fields (directive letter -> int64 array; a directive the
    pattern lacks takes strptime's default)."""

    def number(name: str, default: int) -> np.ndarray:
        return fields[name] if name in fields else np.full(n, default, dtype=np.int64)

    year = number("Y", 1900)
    if "y" in fields:  # POSIX: 00-68 -> 20xx, 69-99 -> 19xx
        year = np.where(fields["y"] <= 68, fields["y"] + 2000, fields["y"] + 1900)
    fields = (number("m", 1), number("d", 1), number("H", 0), number("M", 0), number("S", 0))
    return _wall_clock(year, *fields, min_year=1)  # datetime.date: year 1 on


#: days before each month, and its length, in a common year
_MONTH_START = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _wall_clock(year, month, day, hour, minute, second, *, min_year: int) -> np.ndarray:
    """Date and time fields (int64 arrays; years 0-9999, months 1-12) -> naive seconds since
    the epoch (proleptic Gregorian), NAT where the date does not exist or the year is under
    ``min_year``; hours, minutes and seconds past their range carry over into the next unit,
    as pandas' field assembly and strptime do."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    m, y = month - 1, year - 1
    days = y * 365 + y // 4 - y // 100 + y // 400 - 719162  # 0001-01-01 .. 1970-01-01
    days += _MONTH_START[m] + ((m >= 2) & leap) + day - 1
    month_days = _MONTH_DAYS[m] + ((m == 1) & leap)
    valid = (year >= min_year) & (day >= 1) & (day <= month_days)
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    return np.where(valid, seconds, NAT)


def _to_utc(seconds: np.ndarray, tz: str, fast: bool) -> np.ndarray:
    """Naive seconds (NAT: none) in ``tz`` -> UTC microseconds, as ``_localise``."""
    return fast_path.to_utc(seconds, tz) if fast else fast_path.pandas_to_utc(seconds, tz)


def _id_long(text: pa.Array, naive_tz: str, fast: bool = True) -> np.ndarray:
    out = np.full(len(text), NAT, dtype=np.int64)
    # the common shape is read (fast) or split on its spaces: an extraction costs more
    simple = _matches(text, ID_LONG_SIMPLE_RE)
    if simple.any():
        if fast:
            part = fast_path.id_long_simple_fields(text.filter(simple))
        else:
            spaced = pc.replace_substring(text.filter(simple), ":", " ")
            words = pc.list_flatten(pc.split_pattern(spaced, " "))
            names = ("day", "month", "year", "hour", "minute")
            part = {k: words.take(np.arange(i, len(words), 5)) for i, k in enumerate(names)}
        out[simple] = _id_long_fields(part, naive_tz, fast)
    rest = ~simple
    if fast and rest.any():  # a cheap yes/no match first: most of the rest is other formats
        rest[rest] = _matches(text.filter(rest), ID_LONG_START_RE)
    if not rest.any():
        return out
    extracted = pc.extract_regex(text.filter(rest), ID_LONG_RE)  # null where it does not match
    ok = pc.is_valid(extracted).to_numpy(zero_copy_only=False)
    if ok.any():
        extracted = extracted.filter(ok)
        part = {f.name: extracted.field(i) for i, f in enumerate(extracted.type)}
        where = np.flatnonzero(rest)[ok]
        out[where] = _id_long_fields(part, naive_tz, fast)
    return out


def _id_long_fields(
    part: dict[str, pa.Array | np.ndarray], naive_tz: str, fast: bool = True
) -> np.ndarray:
    """UTC microseconds from ``ID_LONG_RE``'s fields (strings, "" where not given, or numbers
    already read; a field missing from ``part`` is not given), NAT for an unknown month or zone
    or a date that does not exist."""
    n = len(part["day"])
    month = pc.take(
        pa.array(list(ID_MONTHS.values()), pa.int64()),
        pc.index_in(pc.utf8_lower(part["month"]), value_set=pa.array(list(ID_MONTHS))),
    )
    known = pc.is_valid(month).to_numpy(zero_copy_only=False)
    zones = None  # all naive_tz
    if "zone" in part:
        zone_word = pc.utf8_lower(pc.if_else(pc.equal(part["zone"], ""), None, part["zone"]))
        zone = pc.take(
            pa.array(list(ZONE_WORDS.values())),
            pc.index_in(zone_word, value_set=pa.array(list(ZONE_WORDS))),
        )
        known &= pc.or_(pc.is_null(zone_word), pc.is_valid(zone)).to_numpy(zero_copy_only=False)
        zones = pc.fill_null(zone, naive_tz)

    def number(name: str) -> np.ndarray:
        if name not in part:
            return np.zeros(n, dtype=np.int64)
        if isinstance(part[name], np.ndarray):
            return part[name]
        values = pc.if_else(pc.equal(part[name], ""), "0", part[name])
        return pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False)

    month = pc.fill_null(month, 1).to_numpy(zero_copy_only=False)
    time = (number("hour"), number("minute"), number("second"))
    naive = _wall_clock(number("year"), month, number("day"), *time, min_year=0)
    if zones is None:
        local = _to_utc(naive, naive_tz, fast)
    else:
        local = np.full(n, NAT, dtype=np.int64)
        for tz in pc.unique(zones).to_pylist():
            pick = pc.equal(zones, tz).to_numpy(zero_copy_only=False)
            local[pick] = _to_utc(naive[pick], tz, fast)
    local[~known] = NAT
    return local


def parse_timestamps(
    values: pa.Array | pa.ChunkedArray,
    formats: list[str] | tuple[str, ...],
    naive_tz: str,
    *,
    fast: bool = True,
) -> tuple[pa.Array, np.ndarray]:
    """Parse strings to UTC instants.

    ``values`` should be trimmed, with empty strings as null. Returns the timestamp array
    (``timestamp[us, UTC]``, null where not given or not parsed) and a boolean mask of the values
    that were given but matched no format. ``fast=False``: no fast paths (the same result).
    """
    text = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    encoded = pc.dictionary_encode(text.cast(pa.string()))  # each distinct string parsed once
    distinct = np.append(_parse_distinct(encoded.dictionary, formats, naive_tz, fast), NAT)
    given = pc.is_valid(encoded.indices).to_numpy(zero_copy_only=False)
    index = pc.fill_null(encoded.indices, len(encoded.dictionary))  # a null -> the trailing NAT
    result = distinct[index.to_numpy(zero_copy_only=False)]
    array = pa.array(result, type=pa.int64(), mask=result == NAT).cast(UTC_TS)
    return array, given & (result == NAT)


def _parse_distinct(
    text: pa.Array, formats: list[str] | tuple[str, ...], naive_tz: str, fast: bool = True
) -> np.ndarray:
    """UTC microseconds of each (non-null) string, NAT where no format parses it."""
    result = np.full(len(text), NAT, dtype=np.int64)
    todo = np.ones(len(text), dtype=bool)
    for fmt in formats:
        if not todo.any():
            break
        where = np.flatnonzero(todo)
        sub = text if todo.all() else text.filter(todo)
        if fmt == "iso8601":
            parsed = _iso(sub, naive_tz)
        elif fmt == "epoch":
            parsed = _epoch(sub, "s")
        elif fmt == "epoch_ms":
            parsed = _epoch(sub, "ms")
        elif fmt == "id_long":
            parsed = _id_long(sub, naive_tz, fast)
        elif "%" in fmt:
            parsed = _strptime(sub, fmt, naive_tz, fast)
        else:
            raise ValueError(f"unknown timestamp format {fmt!r}")
        got = (parsed >= EARLIEST) & (parsed <= LATEST)  # NAT is below EARLIEST
        result[where[got]] = parsed[got]
        todo[where[got]] = False
    return result
