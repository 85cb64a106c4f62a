"""Personal data protection at the extract step.

Every raw batch passes :func:`pseudonymise` before it is written anywhere: the reporter's NIK
becomes ``reporter_key`` (HMAC-SHA256 under a secret key), name/phone/e-mail columns are
dropped, and free text (title, body) has NIK-, phone- and e-mail-shaped strings replaced by
readable placeholders (:mod:`complaints.masking`). :class:`RedactingFilter` does the same for log
records. docs/privacy.md
explains what is kept where and how the key is handled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from complaints.canonical import FREE_TEXT_FIELDS
from complaints.config import ConfigError, Settings
from complaints.connections import ConnectionNotFound, get_connection
from complaints.masking import mask_text, mask_texts, string_array

log = logging.getLogger(__name__)

KEY_ENV = "COMPLAINTS_HASH_KEY"
KEY_CONN_ID = "complaints_hash_key"
KEY_FILE_NAME = "hash.key"
MIN_KEY_BYTES = 32

#: distinct NIKs in a batch from which they are hashed in DuckDB (``reporter_key``)
HMAC_IN_DUCKDB_FROM = 20_000
SECRET_PLACEHOLDER = "***"

SHA256_BLOCK = 64  # bytes; HMAC pads the key to this

#: column names (normalised: lower case, words joined by "_") that hold personal data, whatever
#: the mapping says; such a column is dropped from every raw batch
PERSONAL_COLUMN_PATTERNS: tuple[str, ...] = (
    r"(^|_)nik($|_)",
    # names written together ("NIKPelapor", "nohp", "namapelapor"): a word that starts so
    r"(^|_)nik(pelapor|pengadu|reporter|ktp)",
    r"(^|_)(no|nomor)_?(hp|telp|tlp|telpon|telepon|wa|handphone|ponsel)",
    r"(^|_)nama_?(pelapor|lengkap|pengadu|pengguna|user)",
    r"^(nama|name)$",
    r"(^|_)(kontak|contact|surel|identitas|identity)($|_)",
    r"(^|_)(pelapor|pengadu|reporter)_(detail|info|data|identitas|kontak)",
    r"(^|_)(no_|nomor_)?ktp($|_)",
    r"(^|_)nomor_induk_kependudukan",
    r"(^|_)(pelapor|pengadu)_nama($|_)",
    r"(^|_)(reporter|full|first|last|user|customer|contact)_name($|_)",
    r"(^|_)(pelapor|pengadu|reporter)(_id)?$",
    r"(^|_)e_?mail",
    r"(^|_)(telp|tlp|telpon|telepon|phone|telephone|handphone|ponsel|hp|wa|whatsapp|msisdn)($|_)",
    r"(^|_)(phone|mobile)_?(no|number)($|_)",
    r"(^|_)(alamat|address)($|_)",
    r"(^|_)(tgl|tanggal)_lahir($|_)",
    r"(^|_)(birth_?date|date_of_birth|dob)($|_)",
)
_PERSONAL_COLUMN_RE = re.compile("|".join(f"(?:{p})" for p in PERSONAL_COLUMN_PATTERNS))


class Mapping(Protocol):
    columns: dict[str, str | list[str]]


# --- the key -------------------------------------------------------------------------------


def _decode_key(text: str, origin: str) -> bytes:
    """Hex or base64 text -> at least MIN_KEY_BYTES bytes; the error never shows the value."""
    text = text.strip()
    raw: bytes | None = None
    if text and re.fullmatch(r"[0-9a-fA-F]+", text) and len(text) % 2 == 0:
        raw = bytes.fromhex(text)
    else:
        standard = text.replace("-", "+").replace("_", "/")  # accept the URL-safe alphabet
        try:
            raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None:
        raise ConfigError(f"{origin}: the hashing key must be hex or base64 text")
    if len(raw) < MIN_KEY_BYTES:
        raise ConfigError(
            f"{origin}: the hashing key must be at least {MIN_KEY_BYTES} bytes, got {len(raw)} "
            f"(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    register_secret(text)
    register_secret(raw.hex())
    return raw


def _local_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode_key(path.read_text(), f"key file {path}")
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    log.warning(
        "created a local hashing key at %s (embedded default only; keep it, or reporters "
        "hashed before and after a new key cannot be matched)",
        path,
    )
    return _decode_key(path.read_text(), f"key file {path}")


def load_key(settings: Settings) -> bytes:
    """The HMAC key: env COMPLAINTS_HASH_KEY, else connection complaints_hash_key's password,
    else (embedded default only) ``<state_dir>/hash.key``, created on first use."""
    env_value = os.environ.get(KEY_ENV)
    if env_value:
        return _decode_key(env_value, KEY_ENV)
    try:
        conn = get_connection(KEY_CONN_ID)
    except ConnectionNotFound:
        conn = None
    if conn is not None:
        if not conn.password:
            raise ConfigError(f"connection {KEY_CONN_ID!r} has no password: put the key there")
        return _decode_key(conn.password, f"connection {KEY_CONN_ID!r}")
    if settings.is_local:
        return _local_key(settings.state_dir / KEY_FILE_NAME)
    raise ConfigError(
        f"COMPLAINTS_ENV=deploy needs a hashing key of at least {MIN_KEY_BYTES} bytes (hex or "
        f"base64): set the environment variable {KEY_ENV}, or define the Airflow connection "
        f"{KEY_CONN_ID!r} with the key as its password "
        f"(AIRFLOW_CONN_{KEY_CONN_ID.upper()} or Airflow's secrets backend)"
    )


# --- hashing -------------------------------------------------------------------------


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104)."""
    if len(key) > SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def _hmac_sha256_hex(key: bytes, messages: list[bytes]) -> pa.Array:
    """``hmac.new(key, m, hashlib.sha256).hexdigest()`` of each message, as a string array.

    RFC 2104 spelled out (the keyed inner and outer SHA-256 states are copied per message, the
    digests hexed in one go): the same values at a fraction of the per-value cost of HMAC objects.
    """
    inner_pad, outer_pad = _pads(key)
    inner = hashlib.sha256(inner_pad)
    outer = hashlib.sha256(outer_pad)
    digests = []
    for message in messages:
        h = inner.copy()
        h.update(message)
        o = outer.copy()
        o.update(h.digest())
        digests.append(o.digest())
    width = 2 * hashlib.sha256().digest_size
    offsets = np.arange(0, width * (len(digests) + 1), width, dtype=np.int64)
    data = b"".join(digests).hex().encode("ascii")
    hexed = pa.Array.from_buffers(
        pa.large_string(), len(digests), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return hexed.cast(pa.string())  # raises, rather than wraps, past 2 GiB


def _hmac_sha256_hex_duckdb(key: bytes, messages: pa.Array) -> pa.Array:
    """The same as ``_hmac_sha256_hex``, computed by DuckDB. Per value it costs more CPU than the
    Python loop (~0.9 against ~0.65 us), but it runs without the GIL: the loop held the GIL for
    ~0.7 s of a 1,000,000-NIK day while the other batch thread waited to map and check.

    The NIKs are only scanned where they are (a registered Arrow table, never copied into the
    database, which could spill to disk); the result holds positions and digests, no NIK."""
    from complaints import scratchdb  # noqa: PLC0415 - DuckDB only for big batches

    inner_pad, outer_pad = _pads(key)
    n = len(messages)
    con = scratchdb.cursor()
    try:
        con.register(
            "nik", pa.table({"i": pa.array(np.arange(n)), "m": messages.cast(pa.binary())})
        )
        out = con.sql(
            "SELECT i, sha256($outer || unhex(sha256($inner || m))) AS h FROM nik",
            params={"inner": inner_pad, "outer": outer_pad},
        ).to_arrow_table()
    finally:
        con.close()
    order = np.empty(n, np.int64)  # DuckDB's rows come in any order: back to the messages'
    order[out["i"].to_numpy()] = np.arange(n)
    return out["h"].combine_chunks().take(pa.array(order)).cast(pa.string())


def reporter_key(nik_values: Any, key: bytes) -> pa.Array:
    """HMAC-SHA256 hex of each NIK's digits; null, empty or digit-less values give null.

    A value that is not 16 digits is hashed all the same: it is personal data either way. Each
    distinct NIK is hashed once: by DuckDB from ``HMAC_IN_DUCKDB_FROM`` of them (no GIL), else
    in Python (no query to set up: ~0.3 ms for 500 NIKs against ~2 ms).
    """
    values = string_array(nik_values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    digits = _nik_digits(values)
    # one hashing pass gives the distinct NIKs and each row's position among them (a unique
    # and then an index_in hashed every value twice: 0.39 s against 0.12 s for 1,000,000)
    encoded = pc.dictionary_encode(digits)  # a null stays a null index, not a dictionary value
    uniques = encoded.dictionary
    if len(uniques) >= HMAC_IN_DUCKDB_FROM:
        hashed = _hmac_sha256_hex_duckdb(key, uniques)
    else:
        hashed = _hmac_sha256_hex(key, uniques.cast(pa.binary()).to_pylist())
    return pc.take(hashed, encoded.indices)


def _nik_digits(values: pa.Array) -> pa.Array:
    """Each value's ASCII digits, null when it has none. Values that are digits only (nearly
    every NIK a source sends) are taken as they are: the regex costs ~0.09 s per 1,000,000."""
    if pc.all(pc.ascii_is_decimal(values)).as_py() is not False:  # None: every value is null
        return values
    # full-width and other compatibility digits as ASCII first, so "３１７１..." is the same
    # reporter as "3171..."
    values = pc.utf8_normalize(values, form="NFKC")
    digits = pc.replace_substring_regex(values, r"[^0-9]", "")
    return pc.if_else(pc.equal(pc.utf8_length(digits), 0), pa.scalar(None, digits.type), digits)


# --- the raw batch -------------------------------------------------------------------------


def normalise_column_name(name: str) -> str:
    """Column name -> lower case words joined by "_" ("NIK Pelapor" -> "nik_pelapor")."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def looks_personal(name: str) -> bool:
    """True when a column's name matches PERSONAL_COLUMN_PATTERNS."""
    return _PERSONAL_COLUMN_RE.search(normalise_column_name(name)) is not None


def _mapped(mapping: Mapping, field: str) -> list[str]:
    value = mapping.columns.get(field)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def confidential_rows(raw: pa.Table, mapping: Mapping) -> pa.ChunkedArray | pa.Array:
    """True for rows flagged rahasia, and for rows whose flag is missing or unreadable (when in
    doubt the text is treated as confidential): every row when the batch has no flag column."""
    columns = [c for c in _mapped(mapping, "is_rahasia") if c in raw.column_names]
    if not columns:
        return pa.repeat(pa.scalar(True), raw.num_rows)
    words = getattr(mapping, "booleans", None) or {}
    false_words = pa.array(sorted({str(w).strip().lower() for w in words.get("false", [])}))
    values = pc.utf8_lower(pc.utf8_trim_whitespace(raw.column(columns[0]).cast(pa.string())))
    return pc.invert(pc.fill_null(pc.is_in(values, value_set=false_words), False))


def _named_columns(mapping: Mapping) -> tuple[set[str], set[str]]:
    """The columns the mapping names for canonical fields other than the reporter's (plus the
    pipeline's ``_row`` and the file connector's ``_file``), and those of them holding free
    text."""
    named = {"_row", "_file"}
    for field, value in mapping.columns.items():
        if not field.startswith("reporter_"):
            named.update([value] if isinstance(value, str) else value)
    return named, {c for f in FREE_TEXT_FIELDS for c in _mapped(mapping, f)}


@dataclass(frozen=True)
class RawText:
    """Where one source's raw-layer rows keep text, for ``warehouse.withdraw``: the columns
    holding the complaint id (the first present is the one mapped), and the text columns that
    stay (named by the mapping for a field that is not free text). Every other text column is
    text as ``pseudonymise`` treats it: masked, and null in rahasia rows."""

    id_columns: tuple[str, ...]
    kept: frozenset[str]

    @classmethod
    def of(cls, mapping: Mapping) -> RawText:
        named, free_text = _named_columns(mapping)
        kept = (named - free_text) | {"reporter_key"}
        return cls(tuple(_mapped(mapping, "complaint_id")), frozenset(kept))

    def withdraw(self, table: pa.Table, complaint_ids: pa.Array) -> pa.Table | None:
        """``table`` with the text of the given complaints' rows nulled; None when no row is
        theirs (or the table has no complaint id column)."""
        column = next((c for c in self.id_columns if c in table.column_names), None)
        if column is None:
            return None
        ids = pc.utf8_trim_whitespace(table.column(column).cast(pa.string()))
        hit = pc.fill_null(pc.is_in(ids, value_set=complaint_ids), False)
        if not pc.any(hit).as_py():
            return None
        arrays = [
            pc.if_else(hit, pa.scalar(None, col.type), col)
            if _is_text(col.type) and name not in self.kept
            else col
            for name, col in zip(table.column_names, table.columns, strict=True)
        ]
        return pa.Table.from_arrays(arrays, schema=table.schema)

    def json_without_text(self, text: str) -> str | None:
        """One quarantined row's ``raw`` JSON (``rawjson.records_json``, ``ensure_ascii``) with
        the same columns' values null as ``withdraw``; None for a text that is not a JSON
        object."""
        try:
            row = json.loads(text)
        except ValueError:
            return None
        if not isinstance(row, dict):
            return None
        kept = {
            name: None if isinstance(value, str) and name not in self.kept else value
            for name, value in row.items()
        }
        return json.dumps(kept, ensure_ascii=True, default=str)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def pseudonymise(raw: pa.Table, mapping: Mapping, key: bytes) -> pa.Table:
    """A raw batch (the source's own column names) without personal data.

    The NIK column (the first of the mapped ones present) becomes ``reporter_key`` in its place
    (a null column at the end when the batch has none); name, phone and e-mail columns and any
    column whose name looks personal are dropped; title and body columns, and text columns the
    mapping does not name (they may hold text too), are masked. Columns the mapping names for
    other canonical fields are kept as they are. The title and body of a rahasia complaint, and
    its unnamed text columns, are removed here, before anything is written (raw layer included).
    """
    present = set(raw.column_names)
    nik_columns = [c for c in _mapped(mapping, "reporter_nik") if c in present]
    personal = set(nik_columns)
    for field in ("reporter_name", "reporter_phone", "reporter_email"):
        personal.update(_mapped(mapping, field))
    kept_by_mapping, free_text = _named_columns(mapping)

    confidential = confidential_rows(raw, mapping)
    key_column = reporter_key(raw.column(nik_columns[0]), key) if nik_columns else None
    names: list[str] = []
    arrays: list[Any] = []
    for i, name in enumerate(raw.column_names):
        if nik_columns and name == nik_columns[0] and "reporter_key" not in names:
            names.append("reporter_key")
            arrays.append(key_column)
        elif name in personal or name == "reporter_key":  # a source cannot supply our key
            continue
        elif name not in kept_by_mapping and looks_personal(name):
            continue
        elif name in free_text or (
            # a column the mapping does not know (the connector's "_extra" cells past the
            # header included) may hold text too
            name not in kept_by_mapping and _is_text(raw.schema.field(i).type)
        ):
            names.append(name)
            masked = mask_texts(raw.column(i))
            # a rahasia complaint's text stays with its institution
            arrays.append(pc.if_else(confidential, pa.nulls(len(masked), masked.type), masked))
        else:
            names.append(name)
            arrays.append(raw.column(i))
    if key_column is None:
        names.append("reporter_key")
        arrays.append(pa.nulls(raw.num_rows, pa.string()))
    return pa.Table.from_arrays(arrays, names=names)


# --- logs ----------------------------------------------------------------------------------

_SECRETS: set[str] = set()
MIN_SECRET_CHARS = 6


def register_secret(value: str | None) -> None:
    """Have every RedactingFilter replace ``value`` by *** (values under 6 characters are
    ignored: they would mask ordinary words)."""
    if value and len(value) >= MIN_SECRET_CHARS:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Registered secrets -> ***, then :func:`mask_text`."""
    for value in sorted(_SECRETS, key=len, reverse=True):
        if value in text:
            text = text.replace(value, SECRET_PLACEHOLDER)
    return mask_text(text) or text


class RedactingFilter(logging.Filter):
    """Masks personal data and registered secrets in a record's message, exception and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, masked
            message = f"{record.msg} {record.args}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one RedactingFilter to every handler of ``logger`` (default: the root logger) and to
    logging's last-resort handler. Calling it again adds nothing."""
    target = logger if logger is not None else logging.getLogger()
    handlers = list(target.handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    found: RedactingFilter | None = None
    for handler in handlers:
        existing = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        if existing:
            found = found or existing[0]
    flt = found or RedactingFilter()
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
