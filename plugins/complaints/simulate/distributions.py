"""The simulator's distributions: lifecycle event order, shares, delays and volumes.

Shared by the lifecycle generator (``complaints.simulate.model``) and the benchmark data generators
(``bench.gen``, ``bench.whgen``), so benchmark data looks like simulated data.
"""

from __future__ import annotations

#: no event happens later than this many calendar days after submission
LIFECYCLE_DAYS = 100

#: event columns of the lifecycle matrix, in the order they can happen
EVENTS = (
    "submitted",
    "verified",
    "forwarded",
    "first_response",
    "followed_up",
    "closed",
    "archived",
)
EVENT_STATUS = (
    "received",
    "verified",
    "verified",
    "in_process",
    "followed_up",
    "closed",
    "archived",
)

CLASSIFICATIONS = ("pengaduan", "aspirasi", "permintaan_informasi")
CLASSIFICATION_P = (0.70, 0.18, 0.12)
#: completion limit in working days from forwarding (DOMAIN.md)
COMPLETION_WD = {
    "pengaduan": 14,
    "pengaduan_pengawasan": 60,
    "aspirasi": 5,
    "permintaan_informasi": 5,
}
CHANNELS = ("web", "mobile", "sms", "twitter", "regional")
CHANNEL_P = (0.45, 0.25, 0.12, 0.05, 0.13)
CATEGORIES = (
    "Kependudukan",
    "Kesehatan",
    "Infrastruktur",
    "Pendidikan",
    "Sosial",
    "Lingkungan Hidup",
    "Ketenagakerjaan",
    "Perhubungan",
    "Pertanahan",
    "Energi dan Listrik",
    "Ketertiban Umum",
    "Perpajakan",
)
CATEGORY_P = (0.16, 0.13, 0.15, 0.10, 0.10, 0.06, 0.06, 0.06, 0.05, 0.05, 0.04, 0.04)

#: working-day delay distributions (index = working days)
VERIFY_WD = (0.40, 0.30, 0.15, 0.07, 0.04, 0.02, 0.01, 0.01)
FORWARD_WD = (0.75, 0.18, 0.05, 0.02)
FIRST_RESPONSE_WD = (0.15, 0.25, 0.20, 0.13, 0.10, 0.06, 0.04, 0.03, 0.02, 0.01, 0.01)
CLOSE_WD = (0.10, 0.10, 0.10, 0.08, 0.08, 0.07, 0.06, 0.05, 0.05, 0.05, 0.26)
#: J-shaped star ratings 1..5 (mean about 4.2)
RATING_P = (0.08, 0.03, 0.07, 0.20, 0.62)

P_NEVER_VERIFIED = 0.01
P_ARCHIVED = 0.07
P_STALL_FIRST_RESPONSE = 0.02
P_STALL_FOLLOW_UP = 0.02
P_NOT_CLOSED = 0.08
P_COMPLETION_ON_TIME = 0.88
P_RATED = 0.40
P_RAHASIA = 0.05
#: complaints received without the flag that the admin marks rahasia at verification (their
#: earlier versions' text is withdrawn from the warehouse, ``complaints.warehouse.withdraw``)
P_MARKED_RAHASIA = 0.01
P_ANONIM = 0.15
P_PENGAWASAN = 0.20

WEEKDAY_FACTOR = (1.15, 1.10, 1.05, 1.00, 0.90, 0.40, 0.30)
HOLIDAY_FACTOR = 0.35
#: complaints per person per day, by level; central institutions by size class
PER_CAPITA = {"kabupaten": 3.5e-5, "kota": 3.5e-5, "provinsi": 1.0e-5}
CENTRAL_SIZES = {
    "kementerian": (25.0, 45.0, 80.0),
    "lembaga": (8.0, 15.0, 25.0),
    "unit": (5.0, 8.0, 12.0),
}
