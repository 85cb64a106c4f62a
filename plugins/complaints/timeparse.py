"""Vectorised parsing of the timestamp strings sources send, into UTC instants.

Formats (tried in the order a mapping lists them; a value is taken by the first that parses):
``iso8601`` (``2022-06-22``, ``2022-06-22 14:05``, ``2022-06-22T07:05:00Z``, ``...+07:00``),
``epoch`` (seconds), ``epoch_ms``, strptime patterns (``%d/%m/%Y %H:%M``), and ``id_long``
(Indonesian dates written by people: ``22 Juni 2022 14:05``, ``5 Agt 2022``, ``5 Agustus 2022
pukul 09.30 WITA``). A value without an offset is local time in ``naive_tz`` (a WIB/WITA/WIT
suffix overrides it). Work is done per format on the still-unparsed values, with pyarrow/pandas
kernels, never a Python loop per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


NAT = np.iinfo(np.int64).min


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


def _strptime(text: pa.Array, pattern: str, naive_tz: str) -> np.ndarray:
    parsed = pd.to_datetime(text.to_pandas(), format=pattern, errors="coerce", exact=True)
    if getattr(parsed.dt, "tz", None) is not None:  # %z in the pattern
        return _micros(parsed)
    return _localise(parsed, naive_tz)


def _id_long(text: pa.Array, naive_tz: str) -> np.ndarray:
    out = np.full(len(text), NAT, dtype=np.int64)
    extracted = pc.extract_regex(text, ID_LONG_RE)  # null where the pattern does not match
    ok = pc.is_valid(extracted).to_numpy(zero_copy_only=False)
    if not ok.any():
        return out
    extracted = extracted.filter(ok)
    part = {f.name: extracted.field(i) for i, f in enumerate(extracted.type)}
    month = pc.take(
        pa.array(list(ID_MONTHS.values()), pa.int64()),
        pc.index_in(pc.utf8_lower(part["month"]), value_set=pa.array(list(ID_MONTHS))),
    )
    zone_word = pc.utf8_lower(pc.if_else(pc.equal(part["zone"], ""), None, part["zone"]))
    zone = pc.take(
        pa.array(list(ZONE_WORDS.values())),
        pc.index_in(zone_word, value_set=pa.array(list(ZONE_WORDS))),
    )
    known = pc.and_(pc.is_valid(month), pc.or_(pc.is_null(zone_word), pc.is_valid(zone))).to_numpy(
        zero_copy_only=False
    )

    def number(name: str) -> np.ndarray:
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
        local[pick] = _localise(naive[pick], str(tz))
    local[~known] = NAT
    out[ok] = local
    return out


def parse_timestamps(
    values: pa.Array | pa.ChunkedArray, formats: list[str] | tuple[str, ...], naive_tz: str
) -> tuple[pa.Array, np.ndarray]:
    """Parse strings to UTC instants.

    ``values`` should be trimmed, with empty strings as null. Returns the timestamp array
    (``timestamp[us, UTC]``, null where not given or not parsed) and a boolean mask of the values
    that were given but matched no format.
    """
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
            parsed = _iso(sub, naive_tz)
        elif fmt == "epoch":
            parsed = _epoch(sub, "s")
        elif fmt == "epoch_ms":
            parsed = _epoch(sub, "ms")
        elif fmt == "id_long":
            parsed = _id_long(sub, naive_tz)
        elif "%" in fmt:
            parsed = _strptime(sub, fmt, naive_tz)
        else:
            raise ValueError(f"unknown timestamp format {fmt!r}")
        got = parsed != NAT
        result[where[got]] = parsed[got]
        todo[where[got]] = False
    array = pa.array(result, type=pa.int64(), mask=result == NAT).cast(UTC_TS)
    return array, todo
