"""reporter_key and mask_texts give exactly what the per-value implementations gave.

Reporter keys must never change (the warehouse joins on them): they are compared with
``hmac.new(key, digits, sha256).hexdigest()`` per value. Masking is compared with the rules run
over every text (the implementation before texts without an "@" or ten digits were skipped) and
with the Python ``re`` version used for logs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints import masking, privacy
from complaints.privacy import mask_text, mask_texts, reporter_key
from complaints.simulate import exports, model

KEYS = (bytes(range(32)), b"k" * 64, b"\xff" * 65, bytes(range(100)))


def reference_key(value, key):
    digits = None if value is None else re.sub(r"[^0-9]", "", value)
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest() if digits else None


def reference_mask(values):
    for pattern, replacement, passes in masking._RULES:
        for _ in range(passes):
            values = pc.replace_substring_regex(values, pattern, replacement)
    return values


@pytest.fixture(params=["python", "duckdb"])
def hmac_in(request, monkeypatch):
    """reporter_key hashing in Python (small batches) or in DuckDB (from 20,000 NIKs)."""
    if request.param == "duckdb":
        monkeypatch.setattr(privacy, "HMAC_IN_DUCKDB_FROM", 1)
    return request.param


@pytest.fixture(scope="module")
def export():
    src = SimpleNamespace(
        id="kab-3201",
        level="kabupaten",
        region_code="32.01",
        timezone="Asia/Jakarta",
        population=3_000_000,
        connector=SimpleNamespace(kind="file", options={}),
    )
    day = dt.date(2026, 10, 29)
    return exports.render_file(model.versions(src, day, day, broken_share=0.3, scale=0.5))


@pytest.mark.parametrize("key", KEYS)
def test_reporter_keys_of_simulated_niks_as_before(export, key, hmac_in):
    niks = [v or None for v in export["NIK Pelapor"]]
    assert len(niks) > 100
    assert reporter_key(pa.array(niks), key).to_pylist() == [reference_key(v, key) for v in niks]


NIK_CASES = [
    "3171012345678901",
    "3171 0123 4567 8901",
    "31.71.01.234567.8901",
    "3171012345678901",
    "12",
    "no nik",
    "",
    None,
    "٣١٧١٠١٢٣٤٥٦٧٨٩٠١",  # Arabic-Indic digits are not [0-9]: no key
    "x9y",
]


@pytest.mark.parametrize("key", KEYS)
def test_reporter_key_edge_cases_as_before(key, hmac_in):
    want = [reference_key(v, key) for v in NIK_CASES]
    assert reporter_key(NIK_CASES, key).to_pylist() == want
    chunked = pa.chunked_array([NIK_CASES[:4], NIK_CASES[4:]], pa.string())
    assert reporter_key(chunked, key).to_pylist() == want
    assert reporter_key(pa.array(NIK_CASES).dictionary_encode(), key).to_pylist() == want
    assert reporter_key(pa.array([None, ""], pa.string()), key).to_pylist() == [None, None]
    assert reporter_key(pa.array([], pa.string()), key).to_pylist() == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text("0123456789", max_size=18),  # digits only: taken without the regex
            st.text("0123456789 .-x\u0663", max_size=18),
        ),
        max_size=30,
    )
)
def test_reporter_keys_of_any_values_as_before(values):
    """Batches of digits only (with nulls; read as they are) and mixed ones (digits extracted)
    give the per-value keys; a repeated NIK gets one key."""
    key = KEYS[1]
    assert reporter_key(pa.array(values, pa.string()), key).to_pylist() == [
        reference_key(v, key) for v in values
    ]


def test_a_big_batch_is_hashed_in_duckdb_to_the_same_keys(monkeypatch):
    monkeypatch.setattr(privacy, "_hmac_sha256_hex", None)  # not the Python loop
    n = privacy.HMAC_IN_DUCKDB_FROM + 500
    niks = [f"3171{i:012d}" for i in range(n)] + ["3171 0000 0000 0007", None, "-"]
    key = KEYS[0]
    got = reporter_key(pa.array(niks[::-1]), key)
    assert got.type == pa.string()
    assert got.to_pylist() == [reference_key(v, key) for v in niks[::-1]]
    plain = [*niks[:n], None, niks[7]]  # digits only: no regex, a repeat and a null
    assert reporter_key(pa.array(plain), key).to_pylist() == [reference_key(v, key) for v in plain]


def assert_masked_as_before(values):
    array = pa.array(values, pa.string())
    got = mask_texts(array)
    assert got.equals(reference_mask(array))
    assert got.to_pylist() == [mask_text(v) for v in values]


def test_simulated_titles_and_bodies_masked_as_before(export):
    bodies = [v or None for v in export["Isi Laporan"]]
    assert any("NIK saya" in (b or "") for b in bodies)
    assert_masked_as_before(bodies)
    assert_masked_as_before([v or None for v in export["Judul"]])


TEXT_CASES = [
    "NIK 3171012345678901 dan 3171 0123 4567 8901, hp 0812-3456-7890 atau +62 812 3456 7890",
    "tulis ke budi.s@contoh.go.id, budi08123456789@x.id dan 081234567890@y.com",
    "Rp 1.500.000.000.000.000 bukan NIK; 12345678901234567 (17 digit) juga bukan",
    "nomor 081234567 terlalu pendek, 0812345678 cukup",
    "31.71.01.234567.8901|6281234567890|0812 3456 7890 1234 5678",
    "NIK saya 31.71.01.234567.8901.",
    "Jl. Merdeka No. 12, RT 03/RW 04 — pelapor: «Siti» 📱 0812 3456 7890",
    "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦ bukan digit ASCII",
    "a@b",
    "",
    None,
]


def test_text_edge_cases_masked_as_before():
    assert_masked_as_before(TEXT_CASES)
    chunked = pa.chunked_array([TEXT_CASES[:3], [], TEXT_CASES[3:]], pa.string())
    got = mask_texts(chunked)
    assert isinstance(got, pa.ChunkedArray)
    assert got.to_pylist() == [mask_text(v) for v in TEXT_CASES]
    assert mask_texts(pa.array(["tanpa data pribadi", None])).to_pylist() == [
        "tanpa data pribadi",
        None,
    ]


TEXT_PIECES = st.sampled_from(
    ["0", "8", "62", "+62", "08", "3171", "0123", "1234567890", " ", ".", "-", "@", "x.id"]
    + ["budi", "é", "📱", "Rp", "NIK", "\n"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(TEXT_PIECES, max_size=16).map("".join))))
def test_generated_texts_masked_as_before(values):
    assert_masked_as_before(values)
