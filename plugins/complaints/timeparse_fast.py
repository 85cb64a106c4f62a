"""Fast paths of ``timeparse`` for the shapes nearly every value has; each gives exactly what
the general path gives, on the values it takes, and leaves the others to it.

* values of a numeric strptime pattern written at full width ("05/06/2022 09:05", not
  "5/6/2022 9:05"): one no-capture regex check, then the digits are read from the Arrow data
  buffer with numpy instead of a regex extraction per field;
* "22 Juni 2022 14:05" (``ID_LONG_SIMPLE_RE``): numbers read from the buffer, from the start
  (day) and from the end (" 2022 14:05" is fixed width), the month word by slicing;
* local -> UTC by subtracting the zone's offset for wall-clock times after its last transition
  (Indonesia's zones: since 1964 or earlier), instead of pandas' per-value zone look-up.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import _zoneinfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.iinfo(np.int64).min

#: each strptime directive at its full width and in the range pandas' regex accepts
FIXED_DIRECTIVES = {
    "d": "3[01]|[12][0-9]|0[1-9]",
    "m": "1[0-2]|0[1-9]",
    "Y": "[0-9]{4}",
    "y": "[0-9]{2}",
    "H": "2[0-3]|[01][0-9]",
    "M": "[0-5][0-9]",
    "S": "6[01]|[0-5][0-9]",
}


def matches(text: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(
        zero_copy_only=False
    )


def value_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, data)`` of a string array as numpy views, the array's own offset applied:
    value ``i`` is ``data[offsets[i]:offsets[i + 1]]``."""
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = text.cast(pa.string())
    if len(text) == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    _, offsets, data = text.buffers()
    offsets = np.frombuffer(offsets, width, len(text) + 1, text.offset * width().itemsize)
    data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return offsets.astype(np.int64), data


def _digits(data: np.ndarray, at: np.ndarray, count: int) -> np.ndarray:
    """The number written by the ``count`` ASCII digits at byte positions ``at`` (+0, +1 ...)."""
    number = np.zeros(len(at), dtype=np.int64)
    for k in range(count):
        number = number * 10 + data[at + k] - 48
    return number


# -- strptime patterns at full width ----------------------------------------------------------
@functools.cache
def fixed_form(pattern: str) -> tuple[str, dict[str, int], int] | None:
    """For a pattern ``_strptime_regex`` accepts: a no-capture regex of its values written with
    every field at full width and the pattern's literal text exactly, where each field starts,
    and the values' common byte length. None if a directive has no fixed width.

    Such a value is parsed by the general regex with every field at full width, as each
    directive's full-width alternatives come before its shorter ones."""
    regex, where, length = [], {}, 0
    for i, part in enumerate(re.split(r"(%.?)", pattern)):
        if i % 2 == 0 or part == "%%":
            literal = part if i % 2 == 0 else "%"
            regex += [c if c.isalnum() else f"\\x{ord(c):02x}" for c in literal]
            length += len(literal)
        elif part[1:] in FIXED_DIRECTIVES:
            where[part[1]] = length
            regex.append(f"(?:{FIXED_DIRECTIVES[part[1]]})")
            length += 4 if part[1] == "Y" else 2
        else:
            return None
    return "^" + "".join(regex) + "$", where, length


def fixed_width_fields(
    text: pa.Array, pattern: str
) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """The values of ``text`` in ``pattern``'s full-width form (a mask) and their fields
    (directive letter -> int64 array over the masked values); None if the pattern has none."""
    form = fixed_form(pattern)
    if form is None:
        return None
    regex, where, length = form
    ok = matches(text, regex)
    offsets, data = value_bytes(text.filter(ok))
    # all ``length`` bytes long, not null: the values lie back to back in the data buffer
    rows = data[offsets[0] : offsets[-1]].reshape(-1, length)
    fields = {}
    for name, at in where.items():
        fields[name] = np.zeros(len(rows), dtype=np.int64)
        for k in range(at, at + (4 if name == "Y" else 2)):
            fields[name] = fields[name] * 10 + rows[:, k] - 48
    return ok, fields


# -- "22 Juni 2022 14:05" ------------------------------------------------------------------
def id_long_simple_fields(text: pa.Array) -> dict[str, np.ndarray | pa.Array]:
    """Fields of values all of the shape ``ID_LONG_SIMPLE_RE`` (day, year, hour, minute as
    int64 arrays, month as the word)."""
    offsets, data = value_bytes(text)
    starts, ends = offsets[:-1], offsets[1:]
    first, second = _digits(data, starts, 1), data[starts + 1]  # values are 16+ bytes long
    day = np.where(second == ord(" "), first, first * 10 + second - 48)
    # " 2022 14:05" ends every value; the month word is what is left after the day's digits
    month = pc.utf8_ltrim(pc.utf8_slice_codeunits(text, 0, -11), characters="0123456789 ")
    return {
        "day": day,
        "month": month,
        "year": _digits(data, ends - 10, 4),
        "hour": _digits(data, ends - 5, 2),
        "minute": _digits(data, ends - 2, 2),
    }


# -- local wall-clock time -> UTC ----------------------------------------------------------
_YEAR_1 = int(np.datetime64("0001-01-02", "s").astype(np.int64))  # a day's margin
_YEAR_9999 = int(np.datetime64("9999-01-01", "s").astype(np.int64))


@functools.cache
def fixed_offset(tz: str) -> tuple[int, int, int] | None:
    """``(first, last, offset)``: local wall-clock seconds from ``first`` to before ``last``
    are UTC ``offset`` seconds ahead in ``tz`` (one offset since the zone's last transition,
    kept a day clear of it); None if the zone keeps changing (DST) or is not known here.

    The transitions are read with the standard library's pure-Python zoneinfo, from the same
    tzdata pandas' ``ZoneInfo`` uses; the result is checked against pandas before use."""
    try:
        zone = _zoneinfo.ZoneInfo.no_cache(tz)
        if not isinstance(zone._tz_after, _zoneinfo._ttinfo):  # a DST rule after the table
            return None
        offset = zone._tz_after.utcoff
        last_change = max(zone._trans_utc, default=None)
    except Exception:  # not a zoneinfo key, or the module's insides have changed
        return None
    if offset % dt.timedelta(seconds=1):
        return None
    offset = int(offset.total_seconds())
    first = _YEAR_1 if last_change is None else max(_YEAR_1, int(last_change) + 86400)
    if first >= _YEAR_9999:
        return None
    probe = np.array([first, first + 1, max(first, 1_790_000_000), _YEAR_9999 - 1])
    want = pandas_to_utc(probe, tz)
    if not np.array_equal(want, (probe - offset) * 1_000_000):
        return None
    return first, _YEAR_9999, offset


def pandas_to_utc(seconds: np.ndarray, tz: str) -> np.ndarray:
    """Naive wall-clock seconds in ``tz`` (NAT for none) -> UTC microseconds, NAT where the time
    does not exist or is ambiguous there, by pandas."""
    naive = pd.Series(seconds.view("datetime64[s]"))
    aware = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    aware = aware.dt.tz_convert("UTC").dt.tz_localize(None)
    return aware.to_numpy("datetime64[us]").view(np.int64)


def to_utc(seconds: np.ndarray, tz: str) -> np.ndarray:
    """``pandas_to_utc``, by subtraction where the zone has one offset."""
    span = fixed_offset(tz)
    if span is None:
        return pandas_to_utc(seconds, tz)
    first, last, offset = span
    plain = (seconds >= first) & (seconds < last)  # NAT is below ``first``
    out = (np.where(plain, seconds, first) - offset) * 1_000_000
    out[~plain] = NAT
    if not plain.all():
        other = ~plain & (seconds != NAT)
        if other.any():
            out[other] = pandas_to_utc(seconds[other], tz)
    return out
