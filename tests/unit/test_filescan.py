"""filescan: one pass gives what the claim and the reader asked three passes for."""

from __future__ import annotations

import codecs
import hashlib
import os

import pytest

from complaints.connectors import filescan
from complaints.connectors.file_formats import detect_encoding
from complaints.connectors.files import sha256_of


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 7 bytes: characters and the BOM split between chunks on small files."""
    monkeypatch.setattr(filescan, "CHUNK", 7)
    monkeypatch.setattr(filescan, "_scans", type(filescan._scans)())


CASES = {
    "empty": b"",
    "ascii": b"id,judul\n1,Jalan rusak\n",
    "utf8 split over chunks": "no,judul\n1,Jalan berlubang \u2013 Cianjur \U0001f6a7\n".encode(),
    "utf8 with BOM": codecs.BOM_UTF8 + b"a,b\n1,2\n",
    "cp1252": "a,b\n1,caf\u00e9 \u2013 ok\n".encode("cp1252"),
    "cut multibyte at the end": b"a,b\n1,x" + "\u00e9".encode()[:1],
    "nul": b"a,b\n1,\x002\n" * 5,
    "surrogate": b"a,b\n1,\xed\xa0\x80\n",
    "overlong": b"a,b\n1,\xc0\xaf\n",
    "lead byte above U+10FFFF": b"a,b\n1,\xf5\x80\x80\x80\n",
    "lone continuation": b"a,b\n1,\x80\n",
    "0xff at a chunk end": b"a,b\n1,\xff",
}


@pytest.mark.parametrize("name", CASES)
def test_scan_agrees_with_each_pass_on_its_own(tmp_path, name):
    data = CASES[name]
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    found = filescan.scan(path)
    assert found.size == len(data)
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    try:
        codecs.decode(data, "utf-8-sig")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    assert found.utf8 is utf8
    assert found.nul is (b"\x00" in data)
    assert sha256_of(path) == (len(data), hashlib.sha256(data).hexdigest())
    assert detect_encoding(path) == ("utf-8-sig" if utf8 else "cp1252")


def test_a_scanned_file_is_not_read_again_until_it_changes(tmp_path, monkeypatch):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n" * 10)
    calls = []
    real = filescan._scan
    monkeypatch.setattr(filescan, "_scan", lambda p: calls.append(p) or real(p))
    first = filescan.scan(path)
    assert filescan.scan(path) is first
    assert len(calls) == 1
    path.write_bytes(b"a,b\n1,\x00\n" * 10)  # same size, new contents
    os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 1_000_000))
    again = filescan.scan(path)
    assert len(calls) == 2
    assert again.nul and again.sha256 != first.sha256


def test_a_file_changed_during_its_scan_is_not_remembered(tmp_path, monkeypatch):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n" * 10)
    real = filescan._scan

    def growing(p):
        found = real(p)
        with open(p, "ab") as fh:  # a drop still being written
            fh.write(b"3,4\n")
        return found

    monkeypatch.setattr(filescan, "_scan", growing)
    filescan.scan(path)
    assert not filescan._scans
    monkeypatch.setattr(filescan, "_scan", real)
    assert filescan.scan(path).size == len(b"a,b\n1,2\n" * 10) + 4


def test_only_the_last_scans_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(filescan, "KEEP", 2)
    for i in range(4):
        path = tmp_path / f"f{i}.csv"
        path.write_bytes(b"x" * i)
        filescan.scan(path)
    assert [key[0] for key in filescan._scans] == [
        os.path.abspath(tmp_path / f"f{i}.csv") for i in (2, 3)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_utf8_verdict_equals_python_on_random_bytes(tmp_path, seed):
    """Arrow's validator over chunks (a character split between them carried over) says what
    Python's strict decoder says, on text with random multi-byte and broken sequences."""
    import random

    rng = random.Random(seed)
    pieces = ["a", "\u00e9", "\u2013", "\U0001f6a7", "\n"]
    broken = [b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x80", b"\xff"]
    path = tmp_path / "f.csv"
    for case in range(60):
        data = b"".join(rng.choice(pieces).encode() for _ in range(rng.randint(0, 40)))
        if case % 2:
            at = rng.randint(0, len(data))
            data = data[:at] + rng.choice(broken) + data[at:]
        path.write_bytes(data)
        filescan._scans.clear()
        try:
            data.decode("utf-8-sig")
            utf8 = True
        except UnicodeDecodeError:
            utf8 = False
        assert filescan.scan(path).utf8 is utf8, data
