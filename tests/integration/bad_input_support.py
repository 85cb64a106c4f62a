"""Helpers for tests/integration/test_bad_input.py: one file source, real ingest, reconciliation.

``Lapor`` builds a one-source registry (file connector, mapping ``ekspor_berkas``) in a temporary
folder, points ``COMPLAINTS_REGISTRY`` / ``COMPLAINTS_DATA_DIR`` at it, drops fixture files into
the source's drop folder for a day and runs ``complaints.pipeline.ingest_source`` exactly as the
DAG does. ``reconcile`` then reads ``ingest_runs``, ``complaint_history`` and ``quarantine`` back
from the warehouse (DuckDB over the Parquet files) and checks rows_read = loaded + quarantined in
the run record and in the tables themselves.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bad_input"
MAPPINGS = ROOT / "include" / "registry" / "mappings.yaml"

SOURCE_ID = "kab-1105"  # Kabupaten Aceh Barat, a file source in the real registry
REGION = "11.05"
DAY = date(2026, 10, 5)
#: the run happens the morning after the local day (WIB) has ended
AS_OF = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)

#: the ekspor_berkas header, in the order a regional export writes it
HEADER = [
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
    "Tanggal Lapor",
    "Tanggal Verifikasi",
    "Tanggal Selesai",
    "Terakhir Diperbarui",
]


def good_row(i: int, day: date = DAY, **overrides: str | None) -> dict[str, str | None]:
    """A valid row of ``day`` (ticket LPR-<i>); ``overrides`` replace values by column name."""
    minute = i % 60
    hour = 8 + (i // 60) % 12
    dmy = day.strftime("%d/%m/%Y")
    row: dict[str, str | None] = {
        "Nomor Tiket": f"LPR-{i:05d}",
        "Kode Wilayah": "1105",
        "Klasifikasi": "PENGADUAN",
        "Berkadar Pengawasan": "tidak",
        "Kategori": "Infrastruktur",
        "Saluran": "WEB",
        "Rahasia": "tidak",
        "Anonim": "tidak",
        "Judul": f"Jalan rusak {i}",
        "Isi Laporan": f"Lubang besar di depan pasar nomor {i}",
        "Status": "BARU",
        "Nilai": None,
        "NIK Pelapor": f"110501010190{i:04d}",
        "Nama Pelapor": f"Pelapor {i}",
        "Tanggal Lapor": f"{dmy} {hour:02d}:{minute:02d}",
        "Tanggal Verifikasi": None,
        "Tanggal Selesai": None,
        "Terakhir Diperbarui": f"{dmy} {hour:02d}:{minute:02d}",
    }
    row.update(overrides)
    return row


def good_rows(n: int, start: int = 1, day: date = DAY) -> list[dict]:
    return [good_row(i, day) for i in range(start, start + n)]


def csv_text(rows: list[dict], header: list[str] | None = None, delimiter: str = ",") -> str:
    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in header])
    return out.getvalue()


COUNT_SQL = {
    "complaint_history": "select count(*) as n from complaint_history "
    "where source_id = ? and seen_day = ?",
    "quarantine": "select count(*) as n from quarantine where source_id = ? and day = ?",
    "raw": "select count(*) as n from raw where source_id = ? and day = ?",
}


@dataclass
class Outcome:
    """What one ingest run left behind."""

    result: dict | None  # ingest_source's return value (None when it raised)
    error: Exception | None  # the SourceError it raised, if any
    run: dict  # the latest ingest_runs row of the source-day
    history: int  # complaint_history rows of the source-day
    quarantine: list[dict]  # quarantine rows of the source-day, by row_number

    @property
    def reasons(self) -> list[str]:
        return [r for q in self.quarantine for r in q["reasons"]]

    def reasons_of(self, complaint_id: str) -> list[str]:
        return [
            r for q in self.quarantine if q["complaint_id"] == complaint_id for r in q["reasons"]
        ]


class Lapor:
    """A one-source deployment in ``root``: registry, drop folder, warehouse."""

    def __init__(
        self,
        root: Path,
        monkeypatch,
        options: dict | None = None,
        *,
        kind: str = "file",
        conn_id: str | None = None,
        mapping: str = "ekspor_berkas",
    ):
        from complaints import pipeline

        self.root = root
        registry_dir = root / "registry"
        registry_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(MAPPINGS, registry_dir / "mappings.yaml")
        source = {
            "id": SOURCE_ID,
            "name": "Pemerintah Kabupaten Aceh Barat",
            "level": "kabupaten",
            "parent": None,
            "region_code": REGION,
            "timezone": "Asia/Jakarta",
            "owner_email": "pengaduan@acehbaratkab.go.id",
            "connector": {"kind": kind, "conn_id": conn_id, "options": options or {}},
            "mapping": mapping,
        }
        self.registry = registry_dir / "sources.yaml"
        self.registry.write_text(yaml.safe_dump({"sources": [source]}, sort_keys=False))
        monkeypatch.setenv("COMPLAINTS_ENV", "local")
        monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(root / "var"))
        monkeypatch.setenv("COMPLAINTS_REGISTRY", str(self.registry))
        for name in (
            "COMPLAINTS_WAREHOUSE",
            "COMPLAINTS_OUTBOX",
            "COMPLAINTS_SOURCES_DIR",
            "COMPLAINTS_QUARANTINE_THRESHOLD",
        ):
            monkeypatch.delenv(name, raising=False)
        pipeline._registry.cache_clear()
        from complaints.config import Settings

        self.settings = Settings.from_env()

    # -- inputs --------------------------------------------------------------------------
    def folder(self, day: date = DAY) -> Path:
        path = self.settings.drop_dir / SOURCE_ID / day.isoformat()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def drop_bytes(self, name: str, data: bytes, day: date = DAY) -> Path:
        path = self.folder(day) / name
        path.write_bytes(data)
        return path

    def drop_text(self, name: str, text: str, day: date = DAY, encoding="utf-8") -> Path:
        return self.drop_bytes(name, text.encode(encoding), day)

    def drop_fixture(self, name: str, day: date = DAY) -> Path:
        return self.drop_bytes(name, (FIXTURES / name).read_bytes(), day)

    # -- running -------------------------------------------------------------------------
    def ingest(self, day: date = DAY, as_of: datetime = AS_OF) -> Outcome:
        from complaints.connectors import SourceError
        from complaints.pipeline import ingest_source

        result, error = None, None
        try:
            result = ingest_source(SOURCE_ID, day, settings=self.settings, as_of=as_of)
        except SourceError as exc:
            error = exc
        return self.outcome(day, result, error)

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        from complaints.warehouse import Warehouse

        con = Warehouse(self.settings).connect()
        try:
            cur = con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()

    def tables(self) -> set[str]:
        from complaints.warehouse import Warehouse

        return set(Warehouse(self.settings).tables())

    def count(self, table: str, day: date = DAY) -> int:
        if table not in self.tables():
            return 0
        sql = COUNT_SQL[table]
        return self.query(sql, [SOURCE_ID, day])[0]["n"]

    def outcome(self, day: date, result: dict | None, error: Exception | None) -> Outcome:
        runs = self.query(
            "select * from ingest_runs where source_id = ? and day = ? "
            "order by finished_at desc limit 1",
            [SOURCE_ID, day],
        )
        quarantine = []
        if "quarantine" in self.tables():
            quarantine = self.query(
                "select row_number, complaint_id, raw, reasons from quarantine "
                "where source_id = ? and day = ? order by row_number",
                [SOURCE_ID, day],
            )
        return Outcome(
            result=result,
            error=error,
            run=runs[0] if runs else {},
            history=self.count("complaint_history", day),
            quarantine=quarantine,
        )

    def current_ids(self) -> list[str]:
        if "complaint_current" not in self.tables():
            return []
        rows = self.query(
            "select complaint_id from complaint_current where source_id = ? order by 1",
            [SOURCE_ID],
        )
        return [r["complaint_id"] for r in rows]


def reconcile(out: Outcome) -> None:
    """rows_read = rows_loaded + rows_quarantined, in ingest_runs and in the tables."""
    run = out.run
    assert run, "no ingest_runs row was recorded"
    assert run["rows_read"] == run["rows_loaded"] + run["rows_quarantined"], run
    assert out.history == run["rows_loaded"], (out.history, run)
    assert len(out.quarantine) == run["rows_quarantined"], (len(out.quarantine), run)
    assert out.history + len(out.quarantine) == run["rows_read"], (out.history, run)
    numbers = [q["row_number"] for q in out.quarantine]
    assert len(numbers) == len(set(numbers)), "a row is quarantined twice"
    if out.result is not None:
        for key in ("rows_read", "rows_loaded", "rows_quarantined", "status"):
            assert out.result[key] == run[key], (key, out.result, run)


def raw_of(q: dict) -> dict:
    return json.loads(q["raw"]) if q["raw"] else {}


# -- the committed fixtures (tests/fixtures/bad_input/) --------------------------------------
# Regenerate with `python tests/integration/bad_input_support.py`; test_fixtures_are_generated
# checks that the committed bytes are exactly what this code writes.


def _csv_bytes(rows: list[dict], header: list[str] | None = None, delimiter: str = ",") -> bytes:
    return csv_text(rows, header, delimiter).encode("utf-8")


def _without(columns: list[str], header: list[str] | None = None) -> list[str]:
    return [c for c in (header or HEADER) if c not in columns]


def build_fixtures() -> dict[str, bytes]:
    """Every small bad-input fixture, name -> exact bytes. Ticket ids 9000+ (the padding file
    the tests add holds LPR-00001..)."""
    f: dict[str, bytes] = {}
    f["empty.csv"] = b""
    f["header_only.csv"] = _csv_bytes([])

    # the upload was cut off in the middle of the last row's complaint text
    full = csv_text([good_row(9001), good_row(9002), good_row(9003)])
    cut = good_row(9004, **{"Isi Laporan": "Laporan yang terpotong"})
    line = csv_text([cut]).split("\r\n", 1)[1]
    f["truncated_last_line.csv"] = (full + line[: line.index("Laporan yang") + 8]).encode()

    # Excel in an Indonesian locale writes ";" (the header sniff picks it)
    f["semicolon.csv"] = _csv_bytes([good_row(9011), good_row(9012)], delimiter=";")

    # one line saved by a Windows tool (cp1252), the next by a UTF-8 one
    head = csv_text([]).encode()
    cp = csv_text([good_row(9021, **{"Judul": "Kafé liar di trotoar"})]).split("\r\n", 1)[1]
    u8 = csv_text([good_row(9022, **{"Judul": "Pedagang kafé menutup jalan"})]).split("\r\n", 1)[1]
    f["mixed_encoding.csv"] = head + cp.encode("cp1252") + u8.encode("utf-8")

    f["bom.csv"] = b"\xef\xbb\xbf" + _csv_bytes([good_row(9031), good_row(9032)])

    # two exports pasted together: the header repeats (and once more at the end)
    text = csv_text([good_row(9041), good_row(9042)])
    text += csv_text([good_row(9043)]) + csv_text([])
    f["duplicated_header.csv"] = text.encode()

    # a column the mapping does not know, and a row with two fields beyond the header
    extra_header = [*HEADER, "Catatan Internal"]
    rows = [good_row(9051, **{"Catatan Internal": "cek ulang"}), good_row(9052)]
    text = csv_text(rows, extra_header).rstrip("\r\n") + ",lebih,lagi\r\n"
    f["extra_columns.csv"] = text.encode()
    f["missing_optional_columns.csv"] = _csv_bytes(
        [good_row(9061), good_row(9062)], _without(["Kategori", "Nilai", "Berkadar Pengawasan"])
    )
    f["missing_required_column.csv"] = _csv_bytes(
        [good_row(i) for i in range(9071, 9076)], _without(["Saluran"])
    )
    renamed = ["Tgl Lapor" if c == "Tanggal Lapor" else c for c in HEADER]
    rows = [dict(good_row(i), **{"Tgl Lapor": good_row(i)["Tanggal Lapor"]}) for i in (9081, 9082)]
    f["renamed_columns.csv"] = _csv_bytes(rows, renamed)

    f["quoted_newlines.csv"] = _csv_bytes(
        [
            good_row(9091, **{"Isi Laporan": 'Baris satu\nbaris dua, dengan "kutip"'}),
            good_row(9092, **{"Isi Laporan": "Windows\r\nbaris\r\n\r\nkosong di tengah"}),
            good_row(9093),
        ]
    )
    f["thousands.csv"] = _csv_bytes(
        [
            good_row(9101, **{"Nilai": "1.000"}),
            good_row(9102, **{"Nomor Tiket": "1.234"}),
            good_row(9103, **{"Nilai": "4,0"}),
        ]
    )
    # one instant (05/10/2026 09:15 WIB = 02:15 UTC) written three ways, and one nobody can read
    f["three_date_formats.csv"] = _csv_bytes(
        [
            good_row(9111, **{"Terakhir Diperbarui": "5 Oktober 2026 09:15"}),
            good_row(9112, **{"Terakhir Diperbarui": "05/10/2026 09:15"}),
            good_row(9113, **{"Terakhir Diperbarui": "2026-10-05T02:15:00Z"}),
            good_row(9114, **{"Terakhir Diperbarui": "2026/10/05 09:15"}),
        ]
    )
    f["future_timestamps.csv"] = _csv_bytes(
        [
            good_row(9121, **{"Terakhir Diperbarui": "06/10/2027 12:00"}),
            good_row(9122, **{"Tanggal Lapor": "07/10/2026 09:00"}),
        ]
    )
    f["ratings.csv"] = _csv_bytes(
        [
            good_row(9130 + n, **{"Nilai": v, "Status": "SELESAI"})
            for n, v in enumerate(["0", "6", "lima", "5"], start=1)
        ]
    )
    f["unknown_regions.csv"] = _csv_bytes(
        [
            good_row(9141, **{"Kode Wilayah": "9999"}),
            good_row(9142, **{"Kode Wilayah": "11.99"}),
            good_row(9143, **{"Kode Wilayah": "11.05"}),
        ]
    )
    text = csv_text([good_row(9151, **{"Judul": "Lampu\x00 jalan\x00 mati"}), good_row(9152)])
    f["nul_bytes.csv"] = text.replace("\r\nLPR-09152", "\x00\r\nLPR-09152").encode()
    f["not_a_list.json"] = (
        json.dumps({"page": 1, "data": {k: v for k, v in good_row(9161).items() if v}}, indent=1)
        + "\n"
    ).encode()
    f["scalar.json"] = b'"halaman 1 dari 3"\n'
    f["list_of_numbers.json"] = b"[1, 2, 3]\n"
    return f


def write_fixtures(dest: Path = FIXTURES) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in build_fixtures().items():
        (dest / name).write_bytes(data)


if __name__ == "__main__":
    write_fixtures()


#: good rows read before a fixture, so its few bad rows stay under the 5% batch threshold
PAD = 60


def pad(lapor: Lapor, n: int = PAD, day: date = DAY) -> None:
    lapor.drop_text("00_padding.csv", csv_text(good_rows(n, day=day)), day)


def published(out, *, read: int, loaded: int):
    reconcile(out)
    assert out.error is None, out.error
    assert out.run["status"] == "published", out.run
    assert (out.run["rows_read"], out.run["rows_loaded"]) == (read, loaded), out.run
    return out


def failed(out, message: str):
    reconcile(out)
    assert out.error is not None, out.result
    assert out.run["status"] == "failed"
    assert message in str(out.error)
    assert message in out.run["error"]
    return out
