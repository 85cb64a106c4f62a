"""complaints.privacy: key loading, NIK hashing, masking, pseudonymise, log redaction."""

from __future__ import annotations

import base64
import logging
import stat
from types import SimpleNamespace

import pyarrow as pa
import pytest

from complaints import privacy
from complaints.config import ConfigError, Settings
from complaints.privacy import (
    PERSONAL_COLUMN_PATTERNS,
    RedactingFilter,
    install_log_redaction,
    load_key,
    looks_personal,
    mask_text,
    mask_texts,
    pseudonymise,
    register_secret,
    reporter_key,
)

KEY = bytes([0x11]) * 32
# openssl: printf 3171012345678901 | openssl dgst -sha256 -mac HMAC -macopt hexkey:11...11 (32x)
NIK_HASH = "7075344ce3ab35353412c3199139c2cecac10b13ef7aae9fe5e8ac45a33dfeb3"


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch):
    monkeypatch.delenv("COMPLAINTS_HASH_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_COMPLAINTS_HASH_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID", raising=False)


@pytest.fixture
def deploy_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_ENV", "deploy")
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COMPLAINTS_WAREHOUSE", str(tmp_path / "wh"))
    return Settings.from_env()


# --- load_key ------------------------------------------------------------------------------


def test_key_from_env_hex(settings, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_HASH_KEY", "11" * 32)
    assert load_key(settings) == KEY
    assert not (settings.state_dir / "hash.key").exists()


def test_key_from_env_base64(settings, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_HASH_KEY", base64.b64encode(bytes(range(40))).decode())
    assert load_key(settings) == bytes(range(40))


def test_key_from_env_base64_urlsafe(settings, monkeypatch):
    raw = bytes([0xFB, 0xFF]) * 16  # encodes with - and _ in the URL-safe alphabet
    monkeypatch.setenv("COMPLAINTS_HASH_KEY", base64.urlsafe_b64encode(raw).decode())
    assert load_key(settings) == raw


@pytest.mark.parametrize("value", ["11" * 31, base64.b64encode(b"x" * 20).decode(), "not a key!"])
def test_key_from_env_too_short_or_garbage(settings, monkeypatch, value):
    monkeypatch.setenv("COMPLAINTS_HASH_KEY", value)
    with pytest.raises(ConfigError, match="COMPLAINTS_HASH_KEY") as info:
        load_key(settings)
    assert value not in str(info.value)


def test_key_from_connection_password(deploy_settings, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_COMPLAINTS_HASH_KEY",
        '{"conn_type": "generic", "password": "' + "ab" * 32 + '"}',
    )
    assert load_key(deploy_settings) == bytes([0xAB]) * 32


def test_env_wins_over_connection(settings, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_HASH_KEY", "11" * 32)
    monkeypatch.setenv("AIRFLOW_CONN_COMPLAINTS_HASH_KEY", '{"password": "' + "ab" * 32 + '"}')
    assert load_key(settings) == KEY


def test_local_key_file_created_once_0600_and_never_logged(settings, caplog):
    caplog.set_level(logging.WARNING, logger="complaints.privacy")
    first = load_key(settings)
    path = settings.state_dir / "hash.key"
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes.fromhex(path.read_text().strip()) == first
    assert len(caplog.records) == 1
    assert str(path) in caplog.text
    assert first.hex() not in caplog.text
    caplog.clear()
    assert load_key(settings) == first  # reused, not re-created
    assert caplog.records == []


def test_deploy_without_key_names_both_ways(deploy_settings):
    with pytest.raises(ConfigError) as info:
        load_key(deploy_settings)
    message = str(info.value)
    assert "COMPLAINTS_HASH_KEY" in message and "complaints_hash_key" in message
    assert not (deploy_settings.state_dir / "hash.key").exists()


# --- reporter_key --------------------------------------------------------------------------


def test_reporter_key_known_value_and_normalisation():
    out = reporter_key(
        pa.array(["3171012345678901", "3171 0123-4567.8901", None, "", "  ", "n/a", "12345"]),
        KEY,
    )
    assert out.type == pa.string()
    values = out.to_pylist()
    assert values[0] == NIK_HASH
    assert values[1] == NIK_HASH  # same digits, same reporter
    assert values[2:6] == [None, None, None, None]
    assert values[6] is not None and len(values[6]) == 64 and values[6] != NIK_HASH


def test_reporter_key_depends_on_key_and_accepts_lists_and_chunks():
    chunked = pa.chunked_array([["3171012345678901"], [None, "3171012345678901"]])
    assert reporter_key(chunked, KEY).to_pylist() == [NIK_HASH, None, NIK_HASH]
    assert reporter_key(["3171012345678901"], bytes(32)).to_pylist()[0] != NIK_HASH
    assert reporter_key(pa.array([], pa.string()), KEY).to_pylist() == []


# --- masking -------------------------------------------------------------------------------

MASK_CASES = [
    ("Nomor saya 0812-3456-7890, NIK 3171012345678901", "Nomor saya [TELEPON], NIK [NIK]"),
    ("hubungi +62 812 3456 7890 atau 6281234567890.", "hubungi [TELEPON] atau [TELEPON]."),
    ("NIK: 3171 0123 4567 8901 / 31.71.01.234567.8901", "NIK: [NIK] / [NIK]"),
    ("NIK3171012345678901", "NIK[NIK]"),
    ("kirim ke budi.santoso+lapor@mail.jakarta.go.id ya", "kirim ke [EMAIL] ya"),
    ("dua: 3171012345678901 3171012345678902 3171012345678903", "dua: [NIK] [NIK] [NIK]"),
    ("081234567890,081234567891", "[TELEPON],[TELEPON]"),
    # not personal data: amounts, dates, postcodes, times, a 17-digit number, short numbers
    ("Biaya Rp 1.500.000 dan Rp 1.500.000.000.000.000", None),
    ("tanggal 12-05-2024 08:30, 2024-08-12, kode pos 12345", None),
    ("nomor rekening 31710123456789012 RT 08 RW 12", None),
    ("0812345", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), MASK_CASES)
def test_mask_text(text, expected):
    assert mask_text(text) == (text if expected is None else expected)


def test_mask_texts_matches_mask_text_and_keeps_nulls():
    texts = [text for text, _ in MASK_CASES] + [None]
    out = mask_texts(pa.array(texts))
    assert out.to_pylist() == [mask_text(t) for t in texts]
    assert out.to_pylist()[-1] is None
    chunked = mask_texts(pa.chunked_array([["NIK 3171012345678901"], [None]]))
    assert isinstance(chunked, pa.ChunkedArray)
    assert chunked.to_pylist() == ["NIK [NIK]", None]


def test_mask_text_none():
    assert mask_text(None) is None


# --- pseudonymise --------------------------------------------------------------------------

SIMPEL = SimpleNamespace(
    columns={
        "complaint_id": "no_tiket",
        "title": "judul",
        "body": ["isi", "uraian"],
        "status": "status",
        "reporter_nik": ["nik_pelapor", "nik"],
        "reporter_name": "nama_pelapor",
        "reporter_phone": "telp_pelapor",
        "reporter_email": "email_pelapor",
        "is_rahasia": "rahasia",
    },
    booleans={"true": ["ya"], "false": ["tidak"]},
)


def _raw(**extra):
    columns = {
        "_row": ["0", "1"],
        "no_tiket": ["T-1", "T-2"],
        "nik_pelapor": ["3171012345678901", None],
        "nama_pelapor": ["Budi Santoso", "Siti"],
        "telp_pelapor": ["081234567890", "081298765432"],
        "email_pelapor": ["budi@mail.com", None],
        "judul": ["Jalan rusak", "Hubungi 081234567890"],
        "isi": ["NIK saya 3171012345678901, e-mail budi@mail.com", None],
        "status": ["Baru", "Selesai"],
        "rahasia": ["tidak", "tidak"],
    }
    columns.update(extra)
    return pa.table(columns)


def test_pseudonymise_replaces_drops_and_masks():
    out = pseudonymise(_raw(), SIMPEL, KEY)
    assert out.column_names == [
        "_row", "no_tiket", "reporter_key", "judul", "isi", "status", "rahasia"
    ]  # fmt: skip
    assert out.column("reporter_key").to_pylist() == [NIK_HASH, None]
    assert out.column("judul").to_pylist() == ["Jalan rusak", "Hubungi [TELEPON]"]
    assert out.column("isi").to_pylist() == ["NIK saya [NIK], e-mail [EMAIL]", None]
    assert out.column("no_tiket").to_pylist() == ["T-1", "T-2"]


def test_pseudonymise_drops_unmapped_personal_looking_columns():
    raw = _raw(
        **{
            "No HP": ["0812", "0813"],
            "alamatPelapor": ["Jl. Melati 1", "Jl. Mawar 2"],
            "reporterEmail": ["a@b.co", "c@d.co"],
            "NIK": ["3171012345678902", "3171012345678903"],
            "kategori": ["Jalan", "Air"],
        }
    )
    out = pseudonymise(raw, SIMPEL, KEY)
    assert "kategori" in out.column_names
    for name in ("No HP", "alamatPelapor", "reporterEmail", "NIK", "nik"):
        assert name not in out.column_names
    assert out.column_names.count("reporter_key") == 1


def test_pseudonymise_without_nik_column_adds_null_key_and_ignores_source_key():
    raw = pa.table({"_row": ["0"], "judul": ["ok"], "reporter_key": ["forged"]})
    out = pseudonymise(raw, SIMPEL, KEY)
    assert out.column_names == ["_row", "judul", "reporter_key"]
    assert out.column("reporter_key").to_pylist() == [None]
    assert out.column("reporter_key").type == pa.string()


def test_pseudonymise_keeps_columns_the_mapping_names_for_other_fields():
    mapping = SimpleNamespace(columns={"category": "wa_kategori", "reporter_nik": "x"})
    raw = pa.table({"wa_kategori": ["Jalan"], "wa": ["0812"]})
    assert pseudonymise(raw, mapping, KEY).column_names == ["wa_kategori", "reporter_key"]


@pytest.mark.parametrize(
    "name",
    [
        "nik", "NIK Pelapor", "nik_pelapor", "no_ktp", "nama_pelapor", "Nama Pelapor",
        "reporter_name", "reporterName", "pelapor", "email", "E-mail", "email_pelapor",
        "telp_pelapor", "Telepon", "phone", "No HP", "no_hp", "nomor_wa", "whatsapp",
        "phone_number", "mobileNo", "alamat", "address", "tanggal_lahir", "date_of_birth",
    ],
)  # fmt: skip
def test_personal_column_names(name):
    assert looks_personal(name)


@pytest.mark.parametrize(
    "name",
    [
        "no_tiket", "Nomor Tiket", "judul", "isi", "Isi Laporan", "kategori", "teknik",
        "kanal", "channel", "anonim", "anonymous", "rahasia", "confidential", "status",
        "tgl_lapor", "Terakhir Diperbarui", "region", "kode_wilayah", "Nilai", "_row",
        "nama_instansi", "tracking_id", "content",
    ],
)  # fmt: skip
def test_ordinary_column_names(name):
    assert not looks_personal(name)


def test_patterns_constant_is_one_tuple_of_regexes():
    assert isinstance(PERSONAL_COLUMN_PATTERNS, tuple) and len(PERSONAL_COLUMN_PATTERNS) >= 10


def test_registry_mappings_only_mark_personal_fields_as_personal():
    """No column a real mapping uses for a non-personal field looks personal (else it would be
    kept only because the mapping names it), and every personal field's column does."""
    import yaml

    from complaints.config import INCLUDE_DIR

    mappings = yaml.safe_load((INCLUDE_DIR / "registry" / "mappings.yaml").read_text())["mappings"]
    for mapping in mappings.values():
        for field, columns in mapping["columns"].items():
            for column in [columns] if isinstance(columns, str) else columns:
                assert looks_personal(column) == field.startswith("reporter_"), (field, column)


# --- logs ----------------------------------------------------------------------------------


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)


def test_redacting_filter_masks_message_args_exception_and_secrets():
    register_secret("s3cr3t-token-value")
    register_secret("abc")  # too short to register: would mask ordinary words
    try:
        raise ValueError("bad NIK 3171012345678901")
    except ValueError:
        import sys

        exc = sys.exc_info()
    record = _record("reporter %s phone %s token %s abc", "budi@mail.com", "081234567890",
                     "s3cr3t-token-value", exc_info=exc)  # fmt: skip
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "reporter [EMAIL] phone [TELEPON] token *** abc"
    assert "3171012345678901" not in record.exc_text and "[NIK]" in record.exc_text
    formatted = logging.Formatter().format(record)
    assert "3171012345678901" not in formatted and "s3cr3t" not in formatted
    privacy._SECRETS.discard("s3cr3t-token-value")


def test_install_log_redaction_is_idempotent_and_redacts_child_loggers(caplog):
    root = logging.getLogger()
    handler = caplog.handler
    try:
        flt = install_log_redaction()
        assert install_log_redaction() is flt
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        logging.getLogger("complaints.somewhere").warning("NIK %s", "3171012345678901")
        assert "3171012345678901" not in caplog.text
        assert "NIK [NIK]" in caplog.text
    finally:
        for h in [*root.handlers, logging.lastResort]:
            for f in [f for f in h.filters if isinstance(f, RedactingFilter)]:
                h.removeFilter(f)


def test_loaded_key_is_redacted_from_logs(settings, monkeypatch):
    encoded = base64.b64encode(bytes(range(100, 140))).decode()
    monkeypatch.setenv("COMPLAINTS_HASH_KEY", encoded)
    key = load_key(settings)
    record = _record("key is %s or %s", encoded, key.hex())
    RedactingFilter().filter(record)
    assert record.getMessage() == "key is *** or ***"


def test_pseudonymise_removes_rahasia_text_before_anything_is_written():
    """A rahasia complaint's title and body never leave the extract step (raw layer included);
    a missing or unreadable flag counts as rahasia, since the text cannot be shown safely."""
    mapping = SimpleNamespace(
        columns=SIMPEL.columns, booleans={"true": ["1", "ya"], "false": ["0", "Tidak"]}
    )
    raw = pa.table(
        {
            "_row": [0, 1, 2, 3],
            "judul": ["Pungli di kantor", "Jalan rusak", "Lampu mati", "Banjir"],
            "isi": ["rahasia", "terbuka", "tidak jelas", "kosong"],
            "rahasia": ["1", " tidak ", "?", None],
        }
    )
    out = pseudonymise(raw, mapping, KEY)
    assert out.column("judul").to_pylist() == [None, "Jalan rusak", None, None]
    assert out.column("isi").to_pylist() == [None, "terbuka", None, None]
    assert out.column("rahasia").to_pylist() == ["1", " tidak ", "?", None]  # the flag stays


def test_a_batch_without_its_rahasia_column_keeps_no_text():
    """Without the flag nothing says the text may be shown: every row counts as rahasia."""
    out = pseudonymise(_raw().drop_columns(["rahasia"]), SIMPEL, KEY)
    assert out.column("judul").to_pylist() == [None, None]
    assert out.column("isi").to_pylist() == [None, None]
    assert out.column("no_tiket").to_pylist() == ["T-1", "T-2"]


def test_columns_the_mapping_does_not_know_are_masked_and_personal_names_dropped():
    extra = {
        "_extra": ['["3171012345678901", "budi@mail.com"]', None],  # cells past the header
        "catatan": ["telp (0812) 3456-7890", "biasa"],
        "NIKPelapor": ["3171012345678901", None],
        "nohp": ["081234567890", None],
        "namapelapor": ["Budi", "Siti"],
        "Kontak": ["budi@mail.com", None],
        "Surel": ["budi@mail.com", None],
        "Identitas": ["KTP 3171012345678901", None],
        "reporter_info": ["Budi, Jakarta", None],
        "Nama": ["Budi", "Siti"],
        "jumlah": [1, 2],
    }
    out = pseudonymise(_raw(**extra), SIMPEL, KEY)
    for name in ("NIKPelapor", "nohp", "namapelapor", "Kontak", "Surel", "Identitas",
                 "reporter_info", "Nama"):  # fmt: skip
        assert name not in out.column_names, name
    assert out.column("_extra").to_pylist() == ['["[NIK]", "[EMAIL]"]', None]
    assert out.column("catatan").to_pylist() == ["telp [TELEPON]", "biasa"]
    assert out.column("jumlah").to_pylist() == [1, 2]
    # in a rahasia row a column the mapping does not know may hold the text: null
    secret = pseudonymise(_raw(**extra, rahasia=["ya", "tidak"]), SIMPEL, KEY)
    assert secret.column("catatan").to_pylist() == [None, "biasa"]
    assert secret.column("_extra").to_pylist() == [None, None]
    assert secret.column("jumlah").to_pylist() == [1, 2]


@pytest.mark.parametrize(
    "text",
    [
        "hubungi 0812.3456.7890 ya",
        "(0812) 3456-7890",
        "+62 (812) 3456 7890",
        "NIK \uff13\uff11\uff17\uff11\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17"
        "\uff18\uff19\uff10\uff11",
        "3171  0123  4567  8901",
        "budi@m\u00e4il.co.id",
        "budi\uff20gmail.com",
        "siti.\u00f1urul@gmail.com",
    ],
)
def test_masking_catches_separators_full_width_digits_and_any_script_in_addresses(text):
    masked = mask_text(text)
    assert masked == mask_texts(pa.array([text]))[0].as_py()
    assert any(p in masked for p in ("[NIK]", "[TELEPON]", "[EMAIL]")), masked
    for part in ("3456", "budi", "urul", "\uff13\uff11\uff17\uff11", "0123"):
        assert part not in masked, masked


def test_a_full_width_nik_is_the_same_reporter():
    full_width = "".join(chr(0xFF10 + int(c)) for c in "3171012345678901")
    mixed = "3171" + full_width[4:]
    keys = reporter_key(pa.array(["3171012345678901", full_width, mixed]), KEY).to_pylist()
    assert keys == [NIK_HASH] * 3
