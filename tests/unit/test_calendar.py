"""Working-day calendar: every expectation below was counted by hand on a paper calendar.

Holidays used (holidays 0.109, SKB 3 Menteri): Idul Fitri 2024 = 10-11 Apr public, 8, 9, 12,
15 Apr cuti bersama; 2025: 27 Jan Isra Mi'raj, 28 Jan cuti bersama Imlek, 29 Jan Imlek, 28 Mar
cuti bersama Nyepi, 31 Mar-1 Apr Idul Fitri, 2-4 and 7 Apr cuti bersama; 1 Jan New Year.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from complaints.calendar import CalendarError, WorkingCalendar, local_dates


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture(scope="module")
def cal_no_cuti() -> WorkingCalendar:
    return WorkingCalendar(cuti_bersama=False)


def d(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


def test_holidays_include_idul_fitri_and_cuti_bersama(cal, cal_no_cuti):
    days = ["2024-04-10", "2024-04-08", "2024-04-16", "2025-04-07", "2026-03-23", "2026-03-25"]
    assert cal.is_working_day(days).tolist() == [False, False, True, False, False, True]
    # without cuti bersama the joint-leave Mondays are working days, the feast itself is not
    assert cal_no_cuti.is_working_day(days).tolist() == [False, True, True, True, True, True]


def test_weekend_is_not_working(cal):
    assert cal.is_working_day(["2024-03-02", "2024-03-03", "2024-03-04"]).tolist() == [
        False,
        False,
        True,
    ]


def test_friday_plus_three_is_wednesday(cal):
    # Fri 1 Mar 2024: Mon 4 (1), Tue 5 (2), Wed 6 (3); Nyepi is 11 Mar
    assert cal.deadline([d("2024-03-01")], 3)[0] == d("2024-03-06")


def test_saturday_day0_counts_from_the_next_working_day(cal):
    # Sat 2 Mar: Mon 4 (1), Tue 5 (2), Wed 6 (3)
    assert cal.deadline([d("2024-03-02")], 3)[0] == d("2024-03-06")


def test_deadline_across_idul_fitri_2024(cal, cal_no_cuti):
    # Fri 5 Apr 2024: 8-15 Apr are holidays or cuti bersama -> 16 (1), 17 (2), 18 (3)
    assert cal.deadline([d("2024-04-05")], 3)[0] == d("2024-04-18")
    # cuti bersama off: Mon 8 (1), Tue 9 (2), 10-11 Idul Fitri, Fri 12 (3)
    assert cal_no_cuti.deadline([d("2024-04-05")], 3)[0] == d("2024-04-12")


def test_deadline_across_nyepi_and_idul_fitri_2025(cal):
    # Fri 28 Mar 2025 is cuti bersama (rolls back to Thu 27); 31 Mar-7 Apr closed;
    # Tue 8 (1), Wed 9 (2), Thu 10 (3)
    assert cal.deadline([d("2025-03-28")], 3)[0] == d("2025-04-10")


def test_deadline_across_year_end(cal):
    # Fri 27 Dec 2024: Mon 30 (1), Tue 31 (2), 1 Jan holiday, Thu 2 Jan (3)
    assert cal.deadline([d("2024-12-27")], 3)[0] == d("2025-01-02")


def test_sixty_working_days(cal, cal_no_cuti):
    # From Thu 2 Jan 2025, counted week by week (see module docstring for the holidays):
    # Jan 3 (1), Jan 6-24 (2-16), Jan 30-31 (17-18), Feb (19-38), Mar 3-27 (39-57),
    # Apr 8 (58), 9 (59), 10 (60)
    assert cal.deadline([d("2025-01-02")], 60)[0] == d("2025-04-10")
    # cuti bersama off: 28 Jan and 28 Mar work -> 27 Mar is 58, 28 Mar 59, Wed 2 Apr 60
    assert cal_no_cuti.deadline([d("2025-01-02")], 60)[0] == d("2025-04-02")


def test_deadline_vectorised_with_nat_and_per_row_n(cal):
    out = cal.deadline(
        np.array(["2024-03-01", "NaT", "2024-12-27"], dtype="datetime64[D]"), np.array([5, 3, 14])
    )
    # Fri 1 Mar + 5: 4,5,6,7,8 -> Fri 8 Mar; Fri 27 Dec + 14: 30, 31, 2, 3, 6-10, 13-17 -> 17 Jan
    assert out[0] == d("2024-03-08")
    assert np.isnat(out[1])
    assert out[2] == d("2025-01-17")


def test_working_days_between(cal):
    starts = ["2024-04-05", "2024-04-05", "2024-04-18", "2024-12-27"]
    ends = ["2024-04-17", "2024-04-05", "2024-04-16", "2025-01-03"]
    # (5 Apr, 17 Apr] = 16, 17 -> 2; same day 0; backwards (16, 18] = -2; (27 Dec, 3 Jan] = 30,
    # 31, 2, 3 -> 4
    assert cal.working_days_between(starts, ends).tolist() == [2, 0, -2, 4]


def test_working_days_between_nat_is_nan(cal):
    out = cal.working_days_between(["2024-04-05"], np.array(["NaT"], dtype="datetime64[D]"))
    assert np.isnan(out[0])


def test_calendar_table_supports_working_day_arithmetic(cal):
    table = cal.calendar_table(dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    assert list(table.columns) == ["date", "is_working_day", "holiday_name", "wd_index"]
    assert len(table) == 30
    row = table.set_index("date")
    assert row.loc[dt.date(2024, 4, 10), "holiday_name"] == "Eid al-Fitr"
    assert pd.isna(row.loc[dt.date(2024, 4, 16), "holiday_name"])
    assert not row.loc[dt.date(2024, 4, 15), "is_working_day"]
    # the 3rd working day after Fri 5 Apr is the working day whose index is 3 higher
    target = row.loc[dt.date(2024, 4, 5), "wd_index"] + 3
    hit = table[(table.wd_index == target) & table.is_working_day]
    assert hit.date.tolist() == [dt.date(2024, 4, 18)]
    # a holiday carries the index of the last working day before it
    assert row.loc[dt.date(2024, 4, 15), "wd_index"] == row.loc[dt.date(2024, 4, 5), "wd_index"]
    # the index does not depend on where the table starts
    later = cal.calendar_table(dt.date(2024, 4, 10), dt.date(2024, 4, 20)).set_index("date")
    assert later.loc[dt.date(2024, 4, 18), "wd_index"] == row.loc[dt.date(2024, 4, 18), "wd_index"]


def test_local_dates_friday_evening_in_papua():
    ts = pd.Series(
        pd.to_datetime(
            [
                "2024-03-01 10:00",  # 19:00 WIT Friday
                "2024-03-01 14:30",  # 23:30 WIT Friday
                "2024-03-01 15:30",  # 00:30 WIT Saturday, 22:30 WIB Friday
                "2024-03-01 15:30",
                "2024-03-01 15:30",  # 23:30 WITA Friday
                None,
            ],
            utc=True,
        )
    )
    zones = [
        "Asia/Jayapura",
        "Asia/Jayapura",
        "Asia/Jayapura",
        "Asia/Jakarta",
        "Asia/Makassar",
        "Asia/Jakarta",
    ]
    out = local_dates(ts, zones)
    expected = ["2024-03-01", "2024-03-01", "2024-03-02", "2024-03-01", "2024-03-01"]
    assert out[:5].tolist() == [dt.date.fromisoformat(x) for x in expected]
    assert np.isnat(out[5])


def test_thursday_night_wib_is_friday_in_papua_and_moves_the_deadline(cal):
    # 15:30 UTC Thu 29 Feb 2024 = 00:30 WIT Fri 1 Mar = 22:30 WIB Thu 29 Feb
    ts = pd.Series(pd.to_datetime(["2024-02-29 15:30", "2024-02-29 15:30"], utc=True))
    day0 = local_dates(ts, ["Asia/Jayapura", "Asia/Jakarta"])
    # Fri 1 Mar + 3 = Wed 6 Mar; Thu 29 Feb + 3 = Fri 1, Mon 4, Tue 5 Mar
    assert cal.deadline(day0, 3).tolist() == [dt.date(2024, 3, 6), dt.date(2024, 3, 5)]


def test_overrides_add_and_remove(tmp_path):
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "add:\n"
        "  - {date: 2024-03-04, name: Cuti Bersama test, kind: cuti_bersama, note: SKB test}\n"
        "  - {date: 2024-03-05, name: Libur test, kind: public, note: Keppres test}\n"
        "remove:\n"
        "  - {date: 2024-04-15, note: SKB test cancels it}\n"
    )
    cal = WorkingCalendar(overrides=path)
    # Fri 1 Mar: 4 and 5 Mar are off -> Wed 6 (1), Thu 7 (2), Fri 8 (3)
    assert cal.deadline([d("2024-03-01")], 3)[0] == d("2024-03-08")
    # 15 Apr works again: Fri 5 Apr -> Mon 15 (1), Tue 16 (2), Wed 17 (3)
    assert cal.deadline([d("2024-04-05")], 3)[0] == d("2024-04-17")
    no_cuti = WorkingCalendar(cuti_bersama=False, overrides=path)
    # the added cuti bersama is ignored, the public holiday is not: 4 (1), 6 (2), 7 (3)
    assert no_cuti.deadline([d("2024-03-01")], 3)[0] == d("2024-03-07")


def test_override_without_note_is_rejected(tmp_path):
    path = tmp_path / "overrides.yaml"
    path.write_text("add:\n  - {date: 2024-03-04, name: Libur}\n")
    with pytest.raises(CalendarError, match="note"):
        WorkingCalendar(overrides=path)


def test_dates_outside_the_calendar_are_an_error():
    cal = WorkingCalendar(start_year=2020, end_year=2025)
    with pytest.raises(CalendarError):
        cal.deadline([d("2025-12-30")], 5)
    with pytest.raises(CalendarError):
        cal.is_working_day(["2019-12-31"])


def test_default_override_file_loads(cal):
    # the shipped file parses and does not empty the calendar
    assert d("2024-04-10") in cal.holidays
    assert len(cal.holidays) > 20 * 15
