"""The mapping engine on the three export shapes of mappings.yaml, with hand-computed rows."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from complaints import canonical
from complaints.config import INCLUDE_DIR
from complaints.mapping import REJECT_SCHEMA, MappingError, map_batch, rows_schema
from complaints.registry import load_registry
from complaints.timeparse import parse_timestamps


@pytest.fixture(scope="module")
def reg():
    return load_registry(INCLUDE_DIR / "registry" / "sources.small.yaml")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def raw_table(columns: dict[str, list]) -> pa.Table:
    n = len(next(iter(columns.values())))
    data = {k: pa.array(v, pa.string()) for k, v in columns.items()}
    data["_row"] = pa.array(range(n), pa.int64())
    return pa.table(data)


def run(reg, source_id, columns):
    source = reg.source(source_id)
    batch = map_batch(raw_table(columns), source, reg.mapping_for(source))
    assert batch.rows.schema == rows_schema()
    assert batch.rejects.schema == REJECT_SCHEMA
    assert batch.rows.num_rows + batch.rejects.num_rows == len(next(iter(columns.values())))
    rows, rejects = batch.rows.column("_row").to_pylist(), batch.rejects.column("_row").to_pylist()
    assert not set(rows) & set(rejects)
    return batch


def reasons(batch) -> dict[int, list[str]]:
    return {r["_row"]: r["reasons"] for r in batch.rejects.to_pylist()}


# -- lapor_api_v1: JSON from the national API, English names, UTC with Z --------------------


def test_lapor_api_shape(reg):
    batch = run(
        reg,
        "kemendagri-dukcapil",
        {
            "tracking_id": ["LAP-1", "LAP-2"],
            "region": ["31.71", None],
            "classification": ["COMPLAINT", "information_request"],
            "supervision": ["true", None],
            "category": ["Kependudukan", None],
            "channel": ["WEB", "sms"],
            "confidential": ["false", "1"],
            "anonymous": ["no", "0"],
            "title": ["KTP belum jadi", "  "],
            "content": ["Sudah 3 bulan", None],
            "status": ["DONE", "DISPOSITIONED"],
            "rating": ["5", None],
            "created_at": ["2022-06-20T02:00:00Z", "1655881500"],
            "verified_at": ["2022-06-20T03:30:00Z", None],
            "closed_at": ["2022-06-21T09:00:00+07:00", ""],
            "updated_at": ["2022-06-21T02:00:00Z", "2022-06-22T07:05:00Z"],
        },
    )
    # the second row has no region: a central source must send it
    assert reasons(batch) == {1: ["missing region_code (a central source must send it)"]}
    [row] = batch.rows.to_pylist()
    assert row == {
        "complaint_id": "LAP-1",
        "source_id": "kemendagri-dukcapil",
        "institution_id": "kemendagri-dukcapil",
        "region_code": "31.71",
        "timezone": "Asia/Jakarta",
        "classification": "pengaduan",
        "berkadar_pengawasan": True,
        "category": "Kependudukan",
        "channel": "web",
        "is_rahasia": False,
        "is_anonim": False,
        "title": "KTP belum jadi",
        "body": "Sudah 3 bulan",
        "status": "closed",
        "rating": 5,
        "reporter_key": None,
        "submitted_at": utc(2022, 6, 20, 2, 0),
        "verified_at": utc(2022, 6, 20, 3, 30),
        "forwarded_at": None,
        "first_response_at": None,
        "followed_up_at": None,
        "closed_at": utc(2022, 6, 21, 2, 0),  # 09:00+07:00
        "updated_at": utc(2022, 6, 21, 2, 0),
        "_row": 0,
    }


def test_regional_source_fills_its_region_and_epoch_parses(reg):
    batch = run(
        reg,
        "prov-31",
        {
            "tracking_id": ["LAP-9"],
            "classification": ["ASPIRATION"],
            "channel": ["MOBILE"],
            "confidential": ["FALSE"],
            "anonymous": ["Yes"],
            "status": ["in_progress"],
            "created_at": ["1655881500"],  # 2022-06-22 07:05:00 UTC
            "updated_at": ["2022-06-22 07:05:00"],  # naive_is: utc
        },
    )
    [row] = batch.rows.to_pylist()
    assert row["region_code"] == "31"
    assert (row["classification"], row["channel"], row["status"]) == (
        "aspirasi",
        "mobile",
        "in_process",
    )
    assert (row["is_rahasia"], row["is_anonim"]) == (False, True)
    assert row["submitted_at"] == row["updated_at"] == utc(2022, 6, 22, 7, 5)


# -- simpel_db: regional database, naive local time ------------------------------------------


def test_simpel_db_shape_naive_local_time_in_wita(reg):
    batch = run(
        reg,
        "kota-7371",  # Makassar, Asia/Makassar (UTC+8)
        {
            "no_tiket": ["MKS-001", "MKS-002"],
            "kode_wilayah": ["7371", None],
            "jenis": ["Permintaan Informasi", "pengaduan"],
            "kanal": ["Kanal Daerah", "Aplikasi Mobile"],
            "rahasia": ["tidak", "ya"],
            "anonim": ["0", "1"],
            "status": [" Sudah Ditindaklanjuti ", "belum diverifikasi"],
            "penilaian": ["4.0", ""],
            "nik_pelapor": ["3171010101010001", None],
            "tgl_lapor": ["2026-10-05 10:12:00", "2026-10-05 23:59:59"],
            "tgl_tindak_lanjut": ["2026-10-06 08:00:00", None],
            "tgl_update": ["2026-10-06 08:00:00", "2026-10-06 00:00:00"],
        },
    )
    assert batch.rejects.num_rows == 0
    first, second = batch.rows.to_pylist()
    assert first["region_code"] == "73.71"  # "7371" written the regions.csv way
    assert second["region_code"] == "73.71"  # filled from the source
    assert first["classification"] == "permintaan_informasi" and first["channel"] == "regional"
    assert first["status"] == "followed_up" and second["status"] == "received"
    assert first["rating"] == 4 and second["rating"] is None
    assert first["submitted_at"] == utc(2026, 10, 5, 2, 12)
    assert second["submitted_at"] == utc(2026, 10, 5, 15, 59, 59)
    assert first["followed_up_at"] == utc(2026, 10, 6, 0, 0)
    assert first["timezone"] == "Asia/Makassar"
    assert "reporter_nik" not in batch.rows.column_names


# -- ekspor_berkas: files written by people --------------------------------------------------


def test_ekspor_berkas_shape_dates_written_by_people(reg):
    batch = run(
        reg,
        "kab-5102",  # Tabanan, Bali, Asia/Makassar
        {
            "Nomor Tiket": ["TBN-1", "TBN-2", "TBN-3"],
            "Klasifikasi": ["PENGADUAN", "Aspirasi", "pengaduan"],
            "Berkadar Pengawasan": ["y", "", "tidak"],
            "Saluran": ["web", "TWITTER", "Kanal Daerah"],
            "Rahasia": ["Ya", "t", "0"],
            "Anonim": ["tidak", "tidak", "Y"],
            "Status": ["done", "Dalam Proses", "BARU"],
            "Nilai": ["3", None, ""],
            "Tanggal Lapor": ["22 Juni 2022 14:05", "5 Agt 2022", "1655881500"],
            "Tanggal Selesai": ["22/06/2022 18:00", None, None],
            "Terakhir Diperbarui": ["23/06/2022", "05/08/2022 09:30", "22-06-2022 15:05"],
        },
    )
    # "22-06-2022 15:05" matches no listed format
    assert reasons(batch) == {2: ["unparseable updated_at '22-06-2022 15:05'"]}
    first, second = batch.rows.to_pylist()
    assert first["status"] == "closed" and second["status"] == "in_process"
    assert first["berkadar_pengawasan"] is True and second["berkadar_pengawasan"] is None
    assert (first["is_rahasia"], second["is_rahasia"]) == (True, False)
    assert first["channel"] == "web" and second["channel"] == "twitter"
    assert first["submitted_at"] == utc(2022, 6, 22, 6, 5)  # 14:05 WITA
    assert second["submitted_at"] == utc(2022, 8, 4, 16, 0)  # 5 Aug 00:00 WITA
    assert first["closed_at"] == utc(2022, 6, 22, 10, 0)
    assert first["updated_at"] == utc(2022, 6, 22, 16, 0)  # 23/06/2022 00:00 WITA
    assert second["updated_at"] == utc(2022, 8, 5, 1, 30)
    assert first["region_code"] == "51.02"


# -- rejects: every reason, nothing lost ------------------------------------------------------


def test_a_bad_row_carries_every_reason(reg):
    batch = run(
        reg,
        "kota-3171",
        {
            "no_tiket": ["OK-1", "BAD-1", None],
            "kode_wilayah": ["31.71", "99.99", None],
            "jenis": ["Pengaduan", "Keluhan", "Aspirasi"],
            "kanal": ["Website", "Website", "Fax"],
            "rahasia": ["0", "mungkin", "0"],
            "anonim": ["0", "0", None],
            "status": ["Selesai", "XYZ", "Selesai"],
            "penilaian": ["2", "lima", "6"],
            "tgl_lapor": ["2022-06-22 14:05:00", "31/31/2022", None],
            "tgl_update": ["2022-06-23 08:00:00", "2022-06-23 08:00:00", "2022-13-01 00:00:00"],
        },
    )
    assert batch.rows.column("complaint_id").to_pylist() == ["OK-1"]
    rejects = batch.rejects.to_pylist()
    assert [r["complaint_id"] for r in rejects] == ["BAD-1", None]
    assert reasons(batch) == {
        1: [
            "region_code '99.99' is not in regions.csv",
            "unknown classification 'Keluhan'",
            "is_rahasia 'mungkin' is not a yes/no word (true: 1, ya, true; false: 0, tidak, false)",
            "unknown status 'XYZ'",
            "rating 'lima' is not an integer 1-5",
            "unparseable submitted_at '31/31/2022'",
        ],
        2: [
            "missing complaint_id",
            "unknown channel 'Fax'",
            "missing is_anonim",
            "rating '6' is not an integer 1-5",
            "missing submitted_at",
            "unparseable updated_at '2022-13-01 00:00:00'",
        ],
    }


RATING_CASES = [
    ("4", 4, None),
    ("4.0", 4, None),
    (" 5 ", 5, None),
    ("1,0", 1, None),
    ("", None, None),
    (None, None, None),
    ("0", None, "rating '0' is not an integer 1-5"),
    ("6", None, "rating '6' is not an integer 1-5"),
    ("4.5", None, "rating '4.5' is not an integer 1-5"),
    ("lima", None, "rating 'lima' is not an integer 1-5"),
    ("1.000", None, "rating '1.000' has a thousands separator; expected an integer 1-5"),
]


@pytest.mark.parametrize(("given", "expected", "reason"), RATING_CASES)
def test_rating(reg, given, expected, reason):
    batch = run(
        reg,
        "kota-3171",
        {
            "no_tiket": ["R"],
            "jenis": ["Pengaduan"],
            "kanal": ["Website"],
            "rahasia": ["0"],
            "anonim": ["0"],
            "status": ["Selesai"],
            "penilaian": [given],
            "tgl_lapor": ["2022-06-22 14:05:00"],
            "tgl_update": ["2022-06-22 14:05:00"],
        },
    )
    if reason is None:
        assert batch.rows.column("rating").to_pylist() == [expected]
    else:
        assert reasons(batch) == {0: [reason]}


def test_missing_required_column_rejects_every_row_with_the_column_named(reg):
    batch = run(
        reg,
        "kota-3171",
        {
            "no_tiket": ["A", "B"],
            "jenis": ["Pengaduan", "Aspirasi"],
            "kanal": ["Website", "Website"],
            "rahasia": ["0", "0"],
            "anonim": ["0", "0"],
            "tgl_lapor": ["2022-06-22 14:05:00", "2022-06-22 14:05:00"],
            "tgl_update": ["2022-06-22 14:05:00", "2022-06-22 14:05:00"],
        },
    )
    assert batch.rows.num_rows == 0
    assert reasons(batch) == {
        0: ["missing required column 'status' for status"],
        1: ["missing required column 'status' for status"],
    }


def test_reporter_key_passes_through_and_row_numbers_are_kept(reg):
    source = reg.source("kota-3171")
    raw = raw_table(
        {
            "no_tiket": ["A", "B"],
            "jenis": ["Pengaduan", "Aspirasi"],
            "kanal": ["Website", "Website"],
            "rahasia": ["0", "0"],
            "anonim": ["0", "0"],
            "status": ["Baru", "Baru"],
            "tgl_lapor": ["2022-06-22 14:05:00", "2022-06-22 14:05:00"],
            "tgl_update": ["2022-06-22 14:05:00", "2022-06-22 14:05:00"],
            "reporter_key": ["abc123", None],
        }
    )
    raw = raw.set_column(raw.column_names.index("_row"), "_row", pa.array([40, 41], pa.int64()))
    batch = map_batch(raw, source, reg.mapping_for(source))
    assert batch.rows.column("reporter_key").to_pylist() == ["abc123", None]
    assert batch.rows.column("_row").to_pylist() == [40, 41]
    assert batch.rows.column_names[:-1] == list(canonical.FIELD_NAMES)


def test_contract_violations_raise(reg):
    source = reg.source("kota-3171")
    with pytest.raises(MappingError, match="has no _row column"):
        map_batch(pa.table({"no_tiket": ["A"]}), source, reg.mapping_for(source))


def test_empty_batch(reg):
    source = reg.source("kab-5102")
    batch = map_batch(raw_table({"Nomor Tiket": []}), source, reg.mapping_for(source))
    assert batch.rows.num_rows == 0 and batch.rejects.num_rows == 0
    assert batch.rows.schema == rows_schema()


def test_large_batch_is_vectorised_and_loses_nothing(reg):
    n = 60_000
    rng = np.random.default_rng(7)
    status = np.array(["Selesai", "Diproses", "XYZ"], dtype=object)[rng.integers(0, 3, n)]
    seconds = rng.integers(0, 30_000_000, n)
    stamps = (np.datetime64("2022-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(str)
    stamps = np.char.replace(stamps, "T", " ")
    raw = pa.table(
        {
            "no_tiket": pa.array([f"T{i}" for i in range(n)]),
            "jenis": pa.array(["Pengaduan"] * n),
            "kanal": pa.array(["Website"] * n),
            "rahasia": pa.array(["0"] * n),
            "anonim": pa.array(["1"] * n),
            "status": pa.array(status, pa.string()),
            "tgl_lapor": pa.array(stamps),
            "tgl_update": pa.array(stamps),
            "_row": pa.array(np.arange(n)),
        }
    )
    source = reg.source("kota-3171")
    batch = map_batch(raw, source, reg.mapping_for(source))
    bad = int((status == "XYZ").sum())
    assert batch.rejects.num_rows == bad
    assert batch.rows.num_rows == n - bad
    expected = (
        np.datetime64("2022-01-01T00:00:00", "us")
        + (seconds * 1_000_000).astype("timedelta64[us]")
        - np.timedelta64(7, "h")  # WIB
    )[status != "XYZ"]
    got = batch.rows.column("submitted_at").to_numpy()
    assert (got.astype("datetime64[us]") == expected).all()


# -- the timestamp parser on its own ----------------------------------------------------------

TIME_CASES = [
    ("2022-06-22T07:05:00Z", utc(2022, 6, 22, 7, 5)),
    ("2022-06-22T14:05:00+07:00", utc(2022, 6, 22, 7, 5)),
    ("2022-06-22 14:05:00 +0700", utc(2022, 6, 22, 7, 5)),
    ("2022-06-22 14:05", utc(2022, 6, 22, 7, 5)),  # naive: local WIB
    ("2022-06-22", utc(2022, 6, 21, 17, 0)),
    ("1655881500", utc(2022, 6, 22, 7, 5)),
    ("1655881500123", utc(2022, 6, 22, 7, 5, 0, 123000)),
    ("22 Juni 2022 14:05", utc(2022, 6, 22, 7, 5)),
    ("5 Agt 2022", utc(2022, 8, 4, 17, 0)),
    ("5 Agustus 2022 pukul 09.30 WITA", utc(2022, 8, 5, 1, 30)),
    ("1 Des 2022 08:00 WIT", utc(2022, 11, 30, 23, 0)),
    ("3 Nop 2022", utc(2022, 11, 2, 17, 0)),
    ("22/06/2022 14:05", utc(2022, 6, 22, 7, 5)),
    ("31/31/2022", None),
    ("2022-02-30 10:00:00", None),
    ("31 Februari 2022", None),
    ("5 Foo 2022", None),
]


@pytest.mark.parametrize(("text", "expected"), TIME_CASES)
def test_parse_timestamps(text, expected):
    formats = ["iso8601", "epoch", "epoch_ms", "id_long", "%d/%m/%Y %H:%M"]
    values, failed = parse_timestamps(pa.array([text]), formats, "Asia/Jakarta")
    assert values.to_pylist() == [expected]
    assert failed.tolist() == [expected is None]


def test_parse_timestamps_naive_utc_and_format_order():
    values, failed = parse_timestamps(pa.array(["2022-06-22 14:05:00", None]), ["iso8601"], "UTC")
    assert values.to_pylist() == [utc(2022, 6, 22, 14, 5), None]
    assert failed.tolist() == [False, False]  # a null is missing, not unparseable
    # 01/02/2022: the first listed pattern wins
    values, _ = parse_timestamps(pa.array(["01/02/2022"]), ["%m/%d/%Y", "%d/%m/%Y"], "UTC")
    assert values.to_pylist() == [utc(2022, 1, 2)]
