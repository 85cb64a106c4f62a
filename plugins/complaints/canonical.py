"""The canonical complaint record: the one layout every source is mapped to.

DOMAIN.md defines the vocabularies; this module is their single home in code.
Timestamps are timezone-aware UTC instants; the source's IANA time zone travels
with each row so that local dates (which decide SLA days and periods) can be
derived exactly.
"""

from __future__ import annotations

import pyarrow as pa

STATUSES = ("received", "verified", "in_process", "followed_up", "closed", "archived")
#: statuses that count in the share denominator (forwarded to the institution)
FORWARDED_STATUSES = ("verified", "in_process", "followed_up", "closed")
CLASSIFICATIONS = ("pengaduan", "aspirasi", "permintaan_informasi")
CHANNELS = ("web", "sms", "mobile", "twitter", "regional")
TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")

#: milestone timestamps, in the order they must happen
MILESTONES = (
    "submitted_at",
    "verified_at",
    "forwarded_at",
    "first_response_at",
    "followed_up_at",
    "closed_at",
)

TS = pa.timestamp("us", tz="UTC")

#: (name, arrow type, required) in warehouse column order
FIELDS: tuple[tuple[str, pa.DataType, bool], ...] = (
    ("complaint_id", pa.string(), True),
    ("source_id", pa.string(), True),
    ("institution_id", pa.string(), True),
    ("region_code", pa.string(), True),
    ("timezone", pa.string(), True),
    ("classification", pa.string(), True),
    ("berkadar_pengawasan", pa.bool_(), False),
    ("category", pa.string(), False),
    ("channel", pa.string(), True),
    ("is_rahasia", pa.bool_(), True),
    ("is_anonim", pa.bool_(), True),
    ("title", pa.string(), False),
    ("body", pa.string(), False),
    ("status", pa.string(), True),
    ("rating", pa.int8(), False),
    ("reporter_key", pa.string(), False),
    ("submitted_at", TS, True),
    ("verified_at", TS, False),
    ("forwarded_at", TS, False),
    ("first_response_at", TS, False),
    ("followed_up_at", TS, False),
    ("closed_at", TS, False),
    ("updated_at", TS, True),
)

FIELD_NAMES = tuple(name for name, _, _ in FIELDS)
REQUIRED_FIELDS = tuple(name for name, _, req in FIELDS if req)
TIMESTAMP_FIELDS = tuple(name for name, typ, _ in FIELDS if typ == TS)

#: personal data a source may send; never written anywhere in clear text
PERSONAL_FIELDS = ("reporter_nik", "reporter_name", "reporter_phone", "reporter_email")
#: free-text fields that are masked for NIK/phone/e-mail shaped strings
FREE_TEXT_FIELDS = ("title", "body")
#: canonical fields a mapping may take from a source column (everything the
#: source speaks; source_id, institution_id, timezone and reporter_key are
#: filled by the pipeline)
MAPPABLE_FIELDS = (
    tuple(
        name
        for name in FIELD_NAMES
        if name not in ("source_id", "institution_id", "timezone", "reporter_key")
    )
    + PERSONAL_FIELDS
)
#: the mappable fields every mapping must cover
MAPPING_REQUIRED = tuple(
    name for name in REQUIRED_FIELDS if name in MAPPABLE_FIELDS and name != "region_code"
)


def schema() -> pa.Schema:
    """Arrow schema of a canonical batch (what the warehouse stores per complaint version)."""
    return pa.schema([pa.field(name, typ, nullable=not req) for name, typ, req in FIELDS])
