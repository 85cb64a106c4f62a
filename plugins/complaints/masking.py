"""Masking of NIK-, phone- and e-mail-shaped strings in free text: the same patterns for a
Python string (logs, error messages) and for an Arrow column (RE2, vectorised), so a value is
masked alike wherever it appears. docs/privacy.md lists the shapes."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

NIK_PLACEHOLDER = "[NIK]"
PHONE_PLACEHOLDER = "[TELEPON]"
EMAIL_PLACEHOLDER = "[EMAIL]"

# The patterns are written in the common subset of Python `re` and RE2 (which Arrow uses): no
# look-arounds. A digit boundary is a captured neighbour that the replacement writes back; a
# match therefore eats the neighbour, so the digit patterns are applied twice (see _rules).
#: full-width digits (U+FF10-U+FF19, typed on a phone keyboard in CJK mode): the literal
#: characters, since RE2 has no \u escapes
_FULL_WIDTH = "\uff10-\uff19"
_D = f"[0-9{_FULL_WIDTH}]"
_NOT_DIGIT_BEFORE = f"(^|[^0-9{_FULL_WIDTH}])"
_NOT_DIGIT_AFTER = f"([^0-9{_FULL_WIDTH}]|$)"
_AT = "@\uff20"  # and the full-width "@"
#: what a part of an e-mail address cannot hold: white space, "@", dots, and the punctuation
#: that ends or encloses an address in text; letters of any script are allowed
_EMAIL_PART = "[^\\s" + _AT + "<>()\\[\\],;:\"'.]+"
#: e-mail addresses: dotted parts, "@", a dotted domain ("budi@mäil.co.id", "siti.ñurul@x.id")
EMAIL_PATTERN = f"{_EMAIL_PART}(?:\\.{_EMAIL_PART})*[{_AT}]{_EMAIL_PART}(?:\\.{_EMAIL_PART})+"
#: 16 digits, the first two together, then up to two spaces, dots or dashes allowed between any
#: digits ("3171012345678901", "3171  0123 4567 8901", "31.71.01.234567.8901"). A 16-digit
#: amount with thousands separators ("1.500.000.000.000.000") starts with one digit: not matched.
NIK_PATTERN = f"{_D}{{2}}(?:[ .-]{{0,2}}{_D}){{14}}"
#: +62 / 62 / 08 and 8-12 more digits, up to two spaces, dots, dashes or brackets between them
#: ("0812.3456.7890", "(0812) 3456-7890", "+62 (812) 3456 7890")
PHONE_PATTERN = (
    f"\\(?(?:[+\uff0b]?[6\uff16][2\uff12]|[0\uff10][8\uff18])(?:[ .()-]{{0,2}}{_D}){{8,12}}"
)

_RULES: tuple[tuple[str, str, int], ...] = (
    # (pattern, replacement, passes); e-mail first: an address may contain phone-like digits
    (EMAIL_PATTERN, EMAIL_PLACEHOLDER, 1),
    (
        _NOT_DIGIT_BEFORE + "(?:" + NIK_PATTERN + ")" + _NOT_DIGIT_AFTER,
        rf"\1{NIK_PLACEHOLDER}\2",
        2,
    ),
    (_NOT_DIGIT_BEFORE + PHONE_PATTERN + _NOT_DIGIT_AFTER, rf"\1{PHONE_PLACEHOLDER}\2", 2),
)
_PY_RULES = tuple((re.compile(p), r, n) for p, r, n in _RULES)
#: 10 digits with what NIK_PATTERN and PHONE_PATTERN allow between them: part of every NIK or
#: phone number
MASK_CANDIDATE_DIGITS = f"{_D}(?:[ .()-]{{0,2}}{_D}){{9}}"


def string_array(values: Any) -> pa.Array | pa.ChunkedArray:
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values, type=pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    return values


def mask_text(text: str | None) -> str | None:
    """Replace NIK-, phone- and e-mail-shaped strings by [NIK], [TELEPON], [EMAIL]."""
    if not text:
        return text
    for pattern, replacement, passes in _PY_RULES:
        for _ in range(passes):
            text = pattern.sub(replacement, text)
    return text


def mask_texts(values: Any) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`mask_text` (Arrow's RE2, same patterns); nulls stay null."""
    values = string_array(values)
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([_mask_array(chunk) for chunk in values.chunks], values.type)
    return _mask_array(values)


def _mask_array(values: pa.Array) -> pa.Array:
    # the rules run only on texts with an "@" or a run of 10 digits (every NIK or phone match
    # holds one): the others cannot change
    # (one regex with both: half the time of a substring search and a regex)
    candidates = pc.fill_null(
        pc.match_substring_regex(values, f"[{_AT}]|" + MASK_CANDIDATE_DIGITS), False
    )
    if not pc.any(candidates).as_py():
        return values
    masked = values.filter(candidates)
    for pattern, replacement, passes in _RULES:
        for _ in range(passes):
            masked = pc.replace_substring_regex(masked, pattern, replacement)
    return pc.replace_with_mask(values, candidates, masked)
