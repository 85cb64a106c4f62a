"""A complaint an admin marks rahasia the day after it was received, through the real pipeline.

Day 1 a file source sends two complaints with their text (and an internal note in a column the
mapping does not name), and a third whose status it cannot read (quarantined with its text);
day 2 it sends the first and the third again, verified and marked rahasia. Once day 2 is
published, no text of either is left in the warehouse: not in history, not in the raw layer,
not in current, not in quarantine (``warehouse.withdraw``); the other complaint keeps its text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bad_input_support import DAY, HEADER, SOURCE_ID, csv_text, good_row

from complaints.leakscan import scan_paths

DAY2 = DAY + timedelta(days=1)
SECRET = "Pungutan liar di loket 7 oleh petugas berkacamata"


def test_text_of_a_complaint_marked_rahasia_the_next_day_leaves_the_warehouse(lapor, caplog):
    header = [*HEADER, "Catatan Internal"]
    first = good_row(1, **{"Isi Laporan": SECRET, "Catatan Internal": SECRET + " (cek)"})
    second = good_row(2, **{"Catatan Internal": "biasa"})
    unread = good_row(3, Status="DITUNDA", **{"Isi Laporan": SECRET + " (3)"})
    lapor.drop_text("ekspor.csv", csv_text([first, second, unread], header))
    assert lapor.ingest().run["rows_quarantined"] == 1
    warehouse = lapor.settings.data_dir / "warehouse"
    assert scan_paths([warehouse], [SECRET])  # day 1 keeps the text: it was not rahasia

    dmy = DAY2.strftime("%d/%m/%Y")
    marked = [
        good_row(
            i,
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
        for i in (1, 3)
    ]
    lapor.drop_text("ekspor.csv", csv_text(marked, header), DAY2)
    with caplog.at_level("INFO", logger="complaints.pipeline"):
        out = lapor.ingest(DAY2, as_of=datetime(2026, 10, 7, 1, tzinfo=UTC))
    assert out.run["status"] == "published"
    assert (
        f"source {SOURCE_ID} day {DAY2}: text withdrawn from 1 version(s) and 1 quarantined row(s)"
        in caplog.text
    )

    assert scan_paths([warehouse], [SECRET]) == []
    history = lapor.query(
        "select complaint_id, seen_day, is_rahasia, title, body from complaint_history "
        "order by complaint_id, seen_day"
    )
    assert [(r["complaint_id"], r["is_rahasia"], r["title"], r["body"]) for r in history] == [
        ("LPR-00001", False, None, None),
        ("LPR-00001", True, None, None),
        ("LPR-00002", False, "Jalan rusak 2", "Lubang besar di depan pasar nomor 2"),
        ("LPR-00003", True, None, None),
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
        {"id": "LPR-00003", "Judul": None, "Isi Laporan": None, "Catatan Internal": None,
         "Status": "DITUNDA"},  # quarantined: its raw row loses the text as well
    ]  # fmt: skip
    (quarantined,) = lapor.query("select complaint_id, day, raw from quarantine")
    assert (quarantined["complaint_id"], quarantined["day"]) == ("LPR-00003", DAY)
    unread_raw = json.loads(quarantined["raw"])
    assert (unread_raw["Judul"], unread_raw["Isi Laporan"]) == (None, None)
    assert (unread_raw["Nomor Tiket"], unread_raw["Status"]) == ("LPR-00003", "DITUNDA")
    current = lapor.query(
        "select is_rahasia, title, body, status from complaint_current where complaint_id = ?",
        ["LPR-00001"],
    )
    assert current == [{"is_rahasia": True, "title": None, "body": None, "status": "verified"}]
    assert SOURCE_ID in {r["source_id"] for r in lapor.query("select source_id from raw")}
