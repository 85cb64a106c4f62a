"""The simulated LAPOR! API over real HTTP on loopback: token, window, pages, faults."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from complaints.simulate import serve_api, simulate

DAY1, DAY2 = dt.date(2026, 10, 29), dt.date(2026, 10, 30)
TOKEN = "t0ken"


def _source(sid, tz="Asia/Jakarta", region="32"):
    return SimpleNamespace(
        id=sid,
        level="provinsi",
        region_code=region,
        timezone=tz,
        population=6_000_000,
        connector=SimpleNamespace(kind="http", options={}),
    )


def _get(base, path, token=TOKEN, **params):
    req = urllib.request.Request(f"{base}{path}?{urlencode(params)}")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def api(settings):
    summary = simulate(
        settings,
        [_source("prov-32"), _source("prov-73", "Asia/Makassar", "73")],
        DAY1,
        DAY2,
        seed=1,
        scale=0.2,
    )
    with serve_api(settings, token=TOKEN, fail_sources=["prov-down"]) as server:
        yield server, summary


def _all(base, source_id, since, before, per_page):
    page, out, pages = 1, [], 0
    while page:
        status, body = _get(
            base,
            f"/api/v1/sources/{source_id}/complaints",
            updated_since=since,
            updated_before=before,
            page=page,
            per_page=per_page,
        )
        assert status == 200
        assert body["page"] == page
        out += body["data"]
        pages += 1
        page = body["next_page"]
    return out, pages


def test_token_is_required(api):
    server, _ = api
    path = "/api/v1/sources/prov-32/complaints"
    assert _get(server.base_url, path, token=None)[0] == 401
    assert _get(server.base_url, path, token="wrong")[0] == 401
    assert _get(server.base_url, path)[0] == 200
    assert server.base_url.startswith("http://127.0.0.1:")


def test_window_and_pagination(api):
    server, summary = api
    frame = summary.to_frame().set_index(["source_id", "day"])
    # the WIB day 2026-10-29 is [10-28T17:00Z, 10-29T17:00Z)
    rows, pages = _all(
        server.base_url, "prov-32", "2026-10-28T17:00:00Z", "2026-10-29T17:00:00Z", per_page=7
    )
    assert len(rows) == frame.loc[("prov-32", DAY1), "versions"]
    assert pages == max(1, -(-len(rows) // 7))  # the last page says next_page null
    stamps = [r["updated_at"] for r in rows]
    assert stamps == sorted(stamps)
    assert all("2026-10-28T17:00:00Z" <= s < "2026-10-29T17:00:00Z" for s in stamps)
    ids = [(r["tracking_id"], r["updated_at"]) for r in rows]
    assert len(set(ids)) == len(ids)  # no row on two pages
    # WITA midnight is 16:00 UTC; offsets in the query work too
    rows73, _ = _all(
        server.base_url,
        "prov-73",
        "2026-10-30T00:00:00+08:00",
        "2026-10-31T00:00:00+08:00",
        per_page=500,
    )
    assert len(rows73) == frame.loc[("prov-73", DAY2), "versions"]
    # a single big page and the empty tail
    status, body = _get(
        server.base_url,
        "/api/v1/sources/prov-32/complaints",
        updated_since="2026-10-28T17:00:00Z",
        per_page=5000,
    )
    assert body["next_page"] is None
    assert len(body["data"]) == frame.loc["prov-32", "versions"].sum()
    status, body = _get(server.base_url, "/api/v1/sources/nobody/complaints")
    assert status == 200 and body == {"data": [], "page": 1, "next_page": None}


def test_record_types(api):
    server, _ = api
    _, body = _get(server.base_url, "/api/v1/sources/prov-32/complaints", per_page=5000)
    for rec in body["data"]:
        assert rec["created_at"].endswith("Z")
        assert isinstance(rec["anonymous"], bool) and isinstance(rec["supervision"], bool)
        assert rec["rating"] is None or rec["rating"] in (0, 1, 2, 3, 4, 5, 6, "lima")


def test_faults_and_bad_requests(api, settings):
    server, _ = api
    assert _get(server.base_url, "/api/v1/sources/prov-down/complaints")[0] == 500
    assert _get(server.base_url, "/api/v1/nothing")[0] == 404
    assert _get(server.base_url, "/api/v1/sources/prov-32/complaints", page=0)[0] == 400
    bad = _get(server.base_url, "/api/v1/sources/prov-32/complaints", updated_since="soon")
    assert bad[0] == 400
    with serve_api(settings, token=TOKEN, fail_rate=1.0) as flaky:
        assert _get(flaky.base_url, "/api/v1/sources/prov-32/complaints")[0] == 500
    with serve_api(settings, token=TOKEN, fail_rate=0.5, seed=3) as flaky:
        codes = [_get(flaky.base_url, "/api/v1/sources/prov-32/complaints")[0] for _ in range(20)]
        assert {200, 500} == set(codes)


def test_start_stop_object(settings):
    server = serve_api(settings, token=TOKEN).start()
    try:
        assert _get(server.base_url, "/api/v1/sources/x/complaints")[0] == 200
    finally:
        server.stop()
    server.stop()  # a second stop is harmless
