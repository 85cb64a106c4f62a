"""Raw rows as JSON text, column at a time: what quarantine keeps of a row it could not load.

``records_json(table)`` gives, for every row, exactly ``json.dumps(row_dict, ensure_ascii=...,
default=str)`` of ``table.to_pylist()`` (columns in table order, ``_row`` left out), but builds
the text with Arrow string kernels instead of a Python call per row (a small table, the usual
quarantine of a source-day, is dumped row by row: faster there). Only values that need a
``\\u`` escape with four hex digits (control characters, and non-ASCII text when
``ensure_ascii``) go through the ``json`` module's own C string encoder, value by value.
"""

from __future__ import annotations

import json
from json import encoder

import pyarrow as pa
import pyarrow.compute as pc

#: what json escapes with a short form; every other control character becomes \u00XX
_SHORT_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
                  ("\b", "\\b"), ("\f", "\\f"))  # fmt: skip
_OTHER_CONTROL = r"[\x00-\x07\x0b\x0e-\x1f]"
_NON_PRINTABLE_ASCII = r"[^\x20-\x7e]"  # ensure_ascii escapes these too (DEL and non-ASCII)
#: up to this many rows ``json.dumps`` of each row is faster than the column kernels, whose cost
#: is mostly per column (9.4 against 0.45 ms for 15 rows of 23 columns; even at ~1,000 rows)
ROW_AT_A_TIME = 500


def _encoder(ensure_ascii: bool):
    return encoder.encode_basestring_ascii if ensure_ascii else encoder.encode_basestring


def _string_literals(values: pa.Array, ensure_ascii: bool) -> pa.Array:
    """JSON string literals of a string array (nulls: ``null``)."""
    text = values
    for plain, escaped in _SHORT_ESCAPES:
        text = pc.replace_substring(text, plain, escaped)
    text = pc.binary_join_element_wise('"', text, '"', "")
    special = pc.match_substring_regex(
        values, _NON_PRINTABLE_ASCII if ensure_ascii else _OTHER_CONTROL
    )
    special = pc.fill_null(special, False)
    if pc.any(special).as_py():
        where = pc.indices_nonzero(special)
        encode = _encoder(ensure_ascii)
        slow = pa.array([encode(v) for v in values.take(where).to_pylist()], pa.string())
        text = pc.replace_with_mask(text, special, slow)
    return pc.fill_null(text, "null")


def _literals(values: pa.Array, ensure_ascii: bool) -> pa.Array:
    """JSON literals of one column, as ``json.dumps`` writes each value."""
    typ = values.type
    if pa.types.is_null(typ):
        return pa.array(["null"] * len(values), pa.string())
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return _string_literals(values.cast(pa.string()), ensure_ascii)
    if pa.types.is_boolean(typ) or pa.types.is_integer(typ):
        return pc.fill_null(values.cast(pa.string()), "null")
    dumps = [json.dumps(v, ensure_ascii=ensure_ascii, default=str) for v in values.to_pylist()]
    return pa.array(dumps, pa.string())


def records_json(table: pa.Table, *, ensure_ascii: bool) -> pa.Array:
    """One JSON object per row of ``table`` (without ``_row``), as ``json.dumps`` writes it."""
    names = [n for n in table.column_names if n != "_row"]
    if table.num_rows == 0:
        return pa.array([], pa.string())
    if not names:
        return pa.array(["{}"] * table.num_rows, pa.string())
    if table.num_rows <= ROW_AT_A_TIME:  # names are unique (connectors make them so)
        rows = table.select(names).to_pylist()
        return pa.array([json.dumps(r, ensure_ascii=ensure_ascii, default=str) for r in rows])
    pieces: list = []
    for i, name in enumerate(names):
        key = json.dumps(name, ensure_ascii=ensure_ascii)
        pieces.append(("{" if i == 0 else ", ") + key + ": ")
        pieces.append(_literals(table[name].combine_chunks(), ensure_ascii))
    pieces.append("}")
    return pc.binary_join_element_wise(*pieces, "")
