"""A complaint an admin marks rahasia the day after it was received, through the real pipeline.

Day 1 a file source sends two complaints with their text (and an internal note in a column the
mapping does not name); day 2 it sends the first again, verified and marked rahasia. Once day 2
is published, no text of that complaint is left in the warehouse: not in history, not in the
raw layer, not in current (``warehouse.withdraw``); the other complaint keeps its text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bad_input_support import DAY, HEADER, SOURCE_ID, csv_text, good_row

from complaints.leakscan import scan_paths

DAY2 = DAY + timedelta(days=1)
SECRET = "Pungutan liar di loket 7 oleh petugas berkacamata"


def test_text_of_a_complaint_marked_rahasia_the_next_day_leaves_the_warehouse(lapor, caplog):
    header = [*HEADER, "Catatan Internal"]
    first = good_row(1, **{"Isi Laporan": SECRET, "Catatan Internal": SECRET + " (cek)"})
    second = good_row(2, **{"Catatan Internal": "biasa"})
    lapor.drop_text("ekspor.csv", csv_text([first, second], header))
    assert lapor.ingest().run["status"] == "published"
    warehouse = lapor.settings.data_dir / "warehouse"
    assert scan_paths([warehouse], [SECRET])  # day 1 keeps the text: it was not rahasia

    dmy = DAY2.strftime("%d/%m/%Y")
    marked = good_row(
        1,
        DAY,
        Rahasia="ya",
        Status="TERVERIFIKASI",
        Judul=None,
        **{
            "Isi Laporan": None,
            "Tanggal Verifikasi": f"{dmy} 09:00",
            "Terakhir Diperbarui": f"{dmy} 09:00",
            "Catatan Internal": None,
        },
    )
    lapor.drop_text("ekspor.csv", csv_text([marked], header), DAY2)
    with caplog.at_level("INFO", logger="complaints.pipeline"):
        out = lapor.ingest(DAY2, as_of=datetime(2026, 10, 7, 1, tzinfo=UTC))
    assert out.run["status"] == "published"
    assert f"source {SOURCE_ID} day {DAY2}: text withdrawn from 1 version(s)" in caplog.text

    assert scan_paths([warehouse], [SECRET]) == []
    history = lapor.query(
        "select complaint_id, seen_day, is_rahasia, title, body from complaint_history "
        "order by complaint_id, seen_day"
    )
    assert [(r["complaint_id"], r["is_rahasia"], r["title"], r["body"]) for r in history] == [
        ("LPR-00001", False, None, None),
        ("LPR-00001", True, None, None),
        ("LPR-00002", False, "Jalan rusak 2", "Lubang besar di depan pasar nomor 2"),
    ]
    raw = lapor.query(
        'select "Nomor Tiket" as id, "Judul", "Isi Laporan", "Catatan Internal", "Status" '
        "from raw where day = ? order by _row",
        [DAY],
    )
    assert raw == [
        {"id": "LPR-00001", "Judul": None, "Isi Laporan": None, "Catatan Internal": None,
         "Status": "BARU"},
        {"id": "LPR-00002", "Judul": "Jalan rusak 2",
         "Isi Laporan": "Lubang besar di depan pasar nomor 2", "Catatan Internal": "biasa",
         "Status": "BARU"},
    ]  # fmt: skip
    current = lapor.query(
        "select is_rahasia, title, body, status from complaint_current where complaint_id = ?",
        ["LPR-00001"],
    )
    assert current == [{"is_rahasia": True, "title": None, "body": None, "status": "verified"}]
    assert SOURCE_ID in {r["source_id"] for r in lapor.query("select source_id from raw")}
