"""Data Docs per day: only the day's results are rendered; older days are removed after a window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_quality import DAY, audit, batch, good_record

from complaints.config import Settings
from complaints.daily import build_quality_docs
from complaints.quality import build_data_docs, data_docs_index, gx_runner, gx_store
from complaints.quality.suites import SUITE_NAMES

DAY2 = DAY + timedelta(days=1)
DAY3 = DAY + timedelta(days=2)


def _store_day(gx_dir, day: date, source_id: str = "prov-31") -> str:
    audit(
        *batch([good_record(i) for i in range(3)]),
        gx_dir=gx_dir,
        day=day,
        source_id=source_id,
        run_id=f"{day}-run",
        recent_counts=[3] * 7,
    )
    return gx_runner.run_name(source_id, day, f"{day}-run")


def _pages(gx_dir, name: str) -> dict:
    """Each suite's rendered page of the run ``name``, with its modification time."""
    pages = {}
    for suite in SUITE_NAMES:
        folder = data_docs_index(gx_dir).parent / "validations" / suite / name
        for page in folder.rglob("*.html"):
            pages[page] = page.stat().st_mtime_ns
    return pages


def _results(gx_dir, name: str) -> list:
    base = gx_dir / gx_store.PROJECT / "uncommitted" / "validations"
    return [p for suite in SUITE_NAMES for p in (base / suite / name).rglob("*.json")]


def test_run_day_is_read_from_the_run_name():
    assert gx_store.run_day(gx_runner.run_name("kab-5102", DAY, "2024-06-10-ab12")) == DAY
    assert gx_store.run_day(gx_runner.run_name("lapor_api", DAY, "run_1")) == DAY
    assert gx_store.run_day("prov-31_not-a-day_run-1") is None


def test_a_day_renders_only_its_results_and_old_days_leave_after_the_window(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COMPLAINTS_GX_KEEP_DAYS", "1")
    settings = Settings.from_env()
    assert settings.gx_keep_days == 1
    gx_dir = settings.data_dir / "gx"
    first = _store_day(gx_dir, DAY)
    index = build_data_docs(gx_dir, DAY)
    before = _pages(gx_dir, first)
    assert len(before) == len(SUITE_NAMES)

    second = _store_day(gx_dir, DAY2)
    other = _store_day(gx_dir, DAY2, source_id="kab-3301")
    assert build_data_docs(gx_dir, DAY2) == index
    assert _pages(gx_dir, first) == before  # day 1 is not rendered again
    assert len(_pages(gx_dir, second)) == len(_pages(gx_dir, other)) == len(SUITE_NAMES)
    html = index.read_text(encoding="utf-8")
    assert first in html and second in html and other in html

    later = _store_day(gx_dir, DAY3)  # a later day (e.g. day 2 re-run after day 3) stays
    assert build_quality_docs(settings, day=DAY2) == str(index)
    assert not _results(gx_dir, first) and not _pages(gx_dir, first)
    assert len(_results(gx_dir, second)) == len(_results(gx_dir, later)) == len(SUITE_NAMES)
    assert len(_pages(gx_dir, second)) == len(SUITE_NAMES)
    html = index.read_text(encoding="utf-8")
    assert first not in html and second in html and other in html


def test_full_rebuild_renders_every_kept_result(tmp_path):
    gx_dir = tmp_path / "gx"
    first, second = _store_day(gx_dir, DAY), _store_day(gx_dir, DAY2)
    build_data_docs(gx_dir, DAY2)
    assert not _pages(gx_dir, first)
    html = build_data_docs(gx_dir).read_text(encoding="utf-8")
    assert len(_pages(gx_dir, first)) == len(SUITE_NAMES)
    assert first in html and second in html
    with pytest.raises(ValueError, match="keep_days"):
        build_data_docs(gx_dir, keep_days=3)
