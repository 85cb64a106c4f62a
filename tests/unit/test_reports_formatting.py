"""Indonesian formatting used by every report."""

from datetime import date

from complaints.reports import formatting as f


def test_numbers_use_decimal_comma_and_thousands_dot():
    assert f.fmt_num(4.2178) == "4,22"
    assert f.fmt_num(1234567.891) == "1.234.567,89"
    assert f.fmt_int(16102) == "16.102"
    assert f.fmt_pct(95.07) == "95,07%"
    assert f.fmt_pct(None) == f.MISSING
    assert f.fmt_num(float("nan")) == f.MISSING


def test_period_labels():
    assert f.period_label("month", date(2026, 10, 1)) == "Oktober 2026"
    assert f.period_label("week", date(2026, 10, 26)) == "Minggu 44, 26 Okt - 1 Nov 2026"
    assert f.period_label("week", date(2026, 12, 28)) == "Minggu 53, 28 Des 2026 - 3 Jan 2027"
    assert f.period_end("month", date(2026, 2, 1)) == date(2026, 2, 28)


def test_headline_in_the_seed_shape():
    assert f.headline(95.07, 2.25, 2.68, 4.22) == (
        "95,07% ditindaklanjuti, 2,25% belum ditindaklanjuti, 2,68% dalam proses; "
        "rating 4,22 dari 5"
    )
    assert f.headline(None, None, None, None) == (
        "belum ada pengaduan yang diteruskan; belum ada rating"
    )
