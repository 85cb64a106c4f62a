"""Rendering complaint versions (model.versions) into the three export shapes of mappings.yaml.

* ``lapor_api_v1`` (http): JSON records, English names, ISO 8601 UTC instants with Z, ratings as
  numbers or null, flags as booleans.
* ``simpel_db`` (sql): one dict per row of the ``aduan`` table, naive local timestamps (text
  'YYYY-MM-DD HH:MM:SS' or datetime), flags 0/1, ``kode_satker`` = source id.
* ``ekspor_berkas`` (file): a frame of text with the Indonesian headers, dates written by people
  ("22 Juni 2022 14:05" or "22/06/2022 14:05"), flags Ya/Tidak.

The column names and status/classification/channel words are copies of mappings.yaml (a test
holds them equal). Planted damage (``broken_field``/``broken_value``) is written last.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pandas as pd

from complaints.canonical import MILESTONES

CANONICAL_ORDER = (
    "complaint_id",
    "region_code",
    "classification",
    "berkadar_pengawasan",
    "category",
    "channel",
    "is_rahasia",
    "is_anonim",
    "title",
    "body",
    "status",
    "rating",
    "reporter_nik",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    *MILESTONES,
    "updated_at",
)
TIMESTAMPS = (*MILESTONES, "updated_at")
FLAGS = ("berkadar_pengawasan", "is_rahasia", "is_anonim")

COLUMNS = {
    "lapor_api_v1": dict(
        zip(
            CANONICAL_ORDER,
            (
                "tracking_id",
                "region",
                "classification",
                "supervision",
                "category",
                "channel",
                "confidential",
                "anonymous",
                "title",
                "content",
                "status",
                "rating",
                "reporter_nik",
                "reporter_name",
                "reporter_phone",
                "reporter_email",
                "created_at",
                "verified_at",
                "dispositioned_at",
                "first_response_at",
                "followed_up_at",
                "closed_at",
                "updated_at",
            ),
            strict=True,
        )
    ),
    "simpel_db": dict(
        zip(
            CANONICAL_ORDER,
            (
                "no_tiket",
                "kode_wilayah",
                "jenis",
                "berkadar_pengawasan",
                "kategori",
                "kanal",
                "rahasia",
                "anonim",
                "judul",
                "isi",
                "status",
                "penilaian",
                "nik_pelapor",
                "nama_pelapor",
                "telp_pelapor",
                "email_pelapor",
                "tgl_lapor",
                "tgl_verifikasi",
                "tgl_disposisi",
                "tgl_tanggapan",
                "tgl_tindak_lanjut",
                "tgl_selesai",
                "tgl_update",
            ),
            strict=True,
        )
    ),
    "ekspor_berkas": dict(
        zip(
            CANONICAL_ORDER,
            (
                "Nomor Tiket",
                "Kode Wilayah",
                "Klasifikasi",
                "Berkadar Pengawasan",
                "Kategori",
                "Saluran",
                "Rahasia",
                "Anonim",
                "Judul",
                "Isi Laporan",
                "Status",
                "Nilai",
                "NIK Pelapor",
                "Nama Pelapor",
                "No HP",
                "Email",
                "Tanggal Lapor",
                "Tanggal Verifikasi",
                "Tanggal Disposisi",
                "Tanggal Tanggapan Pertama",
                "Tanggal Tindak Lanjut",
                "Tanggal Selesai",
                "Terakhir Diperbarui",
            ),
            strict=True,
        )
    ),
}

#: status words per lifecycle event; a version's `variant` picks among synonyms
EVENT_WORDS = {
    "lapor_api_v1": {
        "submitted": ("RECEIVED",),
        "verified": ("VERIFIED",),
        "forwarded": ("DISPOSITIONED",),
        "first_response": ("IN_PROGRESS",),
        "followed_up": ("FOLLOWED_UP",),
        "closed": ("DONE", "DONE", "CLOSED"),
        "archived": ("ARCHIVED", "NOT_AUTHORIZED", "REJECTED"),
    },
    "simpel_db": {
        "submitted": ("Belum Diverifikasi", "Baru"),
        "verified": ("Terverifikasi",),
        "forwarded": ("Didisposisikan",),
        "first_response": ("Diproses", "Dalam Proses"),
        "followed_up": ("Sudah Ditindaklanjuti", "Ditindaklanjuti"),
        "closed": ("Selesai",),
        "archived": ("Diarsipkan", "Bukan Wewenang", "Ditolak"),
    },
    "ekspor_berkas": {
        "submitted": ("BARU",),
        "verified": ("TERVERIFIKASI",),
        "forwarded": ("TERDISPOSISI",),
        "first_response": ("DALAM PROSES",),
        "followed_up": ("DITINDAKLANJUTI", "SUDAH DITINDAKLANJUTI"),
        "closed": ("SELESAI", "SELESAI", "SELESAI", "done"),
        "archived": ("DIARSIPKAN", "BUKAN WEWENANG"),
    },
}
VALUE_WORDS = {
    "lapor_api_v1": {
        "classification": {
            "pengaduan": "COMPLAINT",
            "aspirasi": "ASPIRATION",
            "permintaan_informasi": "INFORMATION_REQUEST",
        },
        "channel": {
            "web": "WEB",
            "sms": "SMS",
            "mobile": "MOBILE",
            "twitter": "TWITTER",
            "regional": "REGIONAL",
        },
    },
    "simpel_db": {
        "classification": {
            "pengaduan": "Pengaduan",
            "aspirasi": "Aspirasi",
            "permintaan_informasi": "Permintaan Informasi",
        },
        "channel": {
            "web": "Website",
            "sms": "SMS 1708",
            "mobile": "Aplikasi Mobile",
            "twitter": "Twitter",
            "regional": "Kanal Daerah",
        },
    },
    "ekspor_berkas": {
        "classification": {
            "pengaduan": "PENGADUAN",
            "aspirasi": "ASPIRASI",
            "permintaan_informasi": "PERMINTAAN INFORMASI",
        },
        "channel": {
            "web": "WEB",
            "sms": "SMS",
            "mobile": "APLIKASI",
            "twitter": "TWITTER",
            "regional": "KANAL DAERAH",
        },
    },
}
MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
DATE_STYLES = ("id_long", "slash", "mixed")


def _words(frame: pd.DataFrame, shape: str) -> dict[str, list]:
    """Status, classification and channel in the shape's vocabulary."""
    words = EVENT_WORDS[shape]
    status = [
        words[e][min(int(v * len(words[e])), len(words[e]) - 1)]
        for e, v in zip(frame["event"], frame["variant"], strict=True)
    ]
    out = {"status": status}
    for name, table in VALUE_WORDS[shape].items():
        out[name] = [table.get(v, v) for v in frame[name]]
    return out


def _records(frame: pd.DataFrame, shape: str, values: dict[str, list]) -> list[dict]:
    """One dict per version in the shape's column names, damage applied."""
    names = COLUMNS[shape]
    columns = {names[c]: values[c] for c in CANONICAL_ORDER}
    keys = list(columns)
    records = [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    broken = frame["broken_field"].to_numpy()
    for i in broken.nonzero()[0] if len(broken) else []:
        if broken[i]:
            records[i][names[broken[i]]] = frame["broken_value"].iat[i]
    return records


def _optional(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series]


def _common(frame: pd.DataFrame, shape: str) -> dict[str, list]:
    values = {c: _optional(frame[c]) for c in CANONICAL_ORDER if c not in TIMESTAMPS}
    values.update(_words(frame, shape))
    values["rating"] = [None if pd.isna(v) else int(v) for v in frame["rating"]]
    return values


def utc_offset(timezone: str) -> pd.Timedelta:
    """Indonesia keeps no daylight saving time: one fixed offset per zone."""
    return pd.Timedelta(ZoneInfo(timezone).utcoffset(dt.datetime(2020, 1, 1)))


def iso_utc(series: pd.Series, timezone: str) -> list:
    utc = series - utc_offset(timezone)
    return [None if pd.isna(v) else v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in utc]


def render_api(frame: pd.DataFrame, timezone: str) -> list[tuple[str, str]]:
    """(updated_at UTC ISO, JSON text) per version, for the API store."""
    values = _common(frame, "lapor_api_v1")
    for c in FLAGS:
        values[c] = [bool(v) for v in frame[c]]
    for c in TIMESTAMPS:
        values[c] = iso_utc(frame[c], timezone)
    records = _records(frame, "lapor_api_v1", values)
    for record in records:
        rating = record["rating"]
        if isinstance(rating, str) and rating.isdigit():
            record["rating"] = int(rating)
    updated = values["updated_at"]
    return [(u, json.dumps(r, ensure_ascii=False)) for u, r in zip(updated, records, strict=True)]


def render_sql(frame: pd.DataFrame, source_id: str, *, text_timestamps: bool) -> list[dict]:
    """Rows for the ``aduan`` table; ``text_timestamps`` for SQLite, datetimes for servers."""
    values = _common(frame, "simpel_db")
    for c in FLAGS:
        values[c] = [int(bool(v)) for v in frame[c]]
    for c in TIMESTAMPS:
        if text_timestamps:
            values[c] = [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M:%S") for v in frame[c]]
        else:
            values[c] = [None if pd.isna(v) else v.to_pydatetime() for v in frame[c]]
    records = _records(frame, "simpel_db", values)
    for record in records:
        record["kode_satker"] = source_id
        rating = record["penilaian"]
        if isinstance(rating, str) and rating.isdigit():
            record["penilaian"] = int(rating)
    return records


def format_id_long(value: pd.Timestamp) -> str:
    return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year} {value:%H:%M}"


def render_file(frame: pd.DataFrame, date_style: str = "id_long") -> pd.DataFrame:
    """A frame of text with the export's Indonesian headers (empty cells are "")."""
    values = _common(frame, "ekspor_berkas")
    for c in FLAGS:
        values[c] = ["Ya" if v else "Tidak" for v in frame[c]]
    values["rating"] = ["" if v is None else str(v) for v in values["rating"]]
    long_style = frame["variant"].to_numpy() < 0.5 if date_style == "mixed" else None
    for c in TIMESTAMPS:
        out = []
        for i, v in enumerate(frame[c]):
            if pd.isna(v):
                out.append("")
            elif date_style == "id_long" or (long_style is not None and long_style[i]):
                out.append(format_id_long(v))
            else:
                out.append(v.strftime("%d/%m/%Y %H:%M"))
        values[c] = out
    records = _records(frame, "ekspor_berkas", values)
    table = pd.DataFrame.from_records(records, columns=list(COLUMNS["ekspor_berkas"].values()))
    return table.fillna("").astype(str)
