"""The source registry: the committed YAML, the models, the loader's error messages, the CLI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from complaints import canonical
from complaints.config import INCLUDE_DIR
from complaints.registry import FRAME_COLUMNS, Mapping, RegistryError, load_registry
from complaints.registry.commands import app

REGISTRY = INCLUDE_DIR / "registry"
MAPPINGS = REGISTRY / "mappings.yaml"
BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "registry_broken"


@pytest.fixture(scope="module")
def full():
    return load_registry(REGISTRY / "sources.yaml")


@pytest.fixture(scope="module")
def small():
    return load_registry(REGISTRY / "sources.small.yaml")


# -- the committed registry -------------------------------------------------------------------


def test_full_registry_has_every_region_and_the_central_institutions(full):
    levels = Counter(s.level for s in full.sources)
    assert levels["provinsi"] == 38
    assert levels["kabupaten"] == 416
    assert levels["kota"] == 98
    assert levels["kementerian"] >= 40
    assert levels["lembaga"] >= 60
    assert levels["unit"] >= 1
    assert 600 <= len(full) <= 720


def test_ids_and_connectors_follow_the_rules(full):
    jakarta = full.source("prov-31")
    assert (jakarta.connector.kind, jakarta.connector.conn_id, jakarta.mapping) == (
        "http",
        "lapor_api",
        "lapor_api_v1",
    )
    pusat = full.source("kota-3171")
    assert pusat.region_code == "31.71" and pusat.province_code == "31"
    assert pusat.population == 1057270  # regions.csv
    regional = [s for s in full.sources if s.level in ("kabupaten", "kota")]
    kinds = [s.connector.kind for s in regional]
    # every 5th kabupaten/kota (regions.csv order) drops files, the rest are sql
    assert kinds[4] == "file" and kinds[9] == "file" and kinds[0] == "sql"
    assert kinds.count("file") == len(regional) // 5
    sql = [s for s in regional if s.connector.kind == "sql"]
    assert all(s.connector.options["table"] == "aduan" for s in sql)
    assert all(s.mapping == "simpel_db" for s in sql)
    assert {s.connector.kind for s in full.sources if s.level == "lembaga"} == {"http", "file"}
    assert {s.connector.kind for s in full.sources if s.level == "kementerian"} == {"http"}


def test_units_and_central_institutions(full):
    dukcapil = full.source("kemendagri-dukcapil")
    assert dukcapil.level == "unit" and dukcapil.parent == "kemendagri"
    assert dukcapil.name == "Direktorat Jenderal Kependudukan dan Pencatatan Sipil"
    assert full.source("kemenkes").name == "Kementerian Kesehatan"
    assert full.source("bpjs-kesehatan").level == "lembaga"
    central = [s for s in full.sources if not s.is_regional]
    assert all(s.timezone == "Asia/Jakarta" and s.region_code is None for s in central)
    assert all(s.population is None for s in central)


def test_region_timezones_come_from_regions_csv(full):
    assert full.source("prov-51").timezone == "Asia/Makassar"  # Bali, WITA
    assert full.source("prov-91").timezone == "Asia/Jayapura"  # Papua, WIT
    assert full.source("kota-7371").timezone == "Asia/Makassar"


def test_small_registry_has_two_of_each_kind(small):
    assert len(small) == 6
    assert Counter(s.connector.kind for s in small.sources) == {"http": 2, "sql": 2, "file": 2}
    http_ids = {s.id for s in small.select(kinds=["http"])}
    assert "kemendagri-dukcapil" in http_ids and any(i.startswith("prov-") for i in http_ids)


def test_every_mapping_covers_the_required_fields(full):
    assert set(full.mappings) >= {"lapor_api_v1", "simpel_db", "ekspor_berkas"}
    for mapping in full.mappings.values():
        assert set(canonical.MAPPING_REQUIRED) <= set(mapping.columns)
    assert full.mapping_for(full.source("kota-3171")).name == "simpel_db"


# -- selection and the frame ------------------------------------------------------------------


def test_select_filters_combine(full):
    bali_sql = full.select(kinds=["sql"], province="51")
    assert bali_sql and all(s.province_code == "51" for s in bali_sql)
    assert all(s.connector.kind == "sql" for s in bali_sql)
    bali_all = full.select(province="prov-51")
    assert bali_all[0].id == "prov-51"
    assert len(bali_all) == 1 + 9  # the province, 8 kabupaten and 1 kota in regions.csv
    assert [s.id for s in full.select(ids=["kemenkes", "prov-31"])] == ["prov-31", "kemenkes"]
    assert len(full.select(levels=["unit"], limit=3)) == 3


def test_select_unknown_values_are_errors_not_empty(full):
    with pytest.raises(RegistryError) as err:
        full.select(ids=["nope"], kinds=["ftp"], levels=["desa"])
    assert err.value.problems == [
        "unknown source id 'nope'",
        "unknown connector kind 'ftp' (known: http, sql, file)",
        "unknown level 'desa' (known: provinsi, kabupaten, kota, kementerian, lembaga, unit)",
    ]
    with pytest.raises(KeyError, match="unknown source id 'nope'"):
        full.source("nope")


def test_to_frame(small):
    frame = small.to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    row = frame.set_index("source_id").loc["kota-7371"]
    assert row["institution_id"] == "kota-7371"
    assert row["province_code"] == "73" and row["population"] == 1482354
    assert row["connector_kind"] == "sql"


def test_default_path_comes_from_settings(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_REGISTRY", str(REGISTRY / "sources.small.yaml"))
    assert len(load_registry()) == 6


# -- broken registries: one fixture per rule, with the exact message --------------------------

BROKEN_CASES = [
    ("duplicate_id", "sources[1] (prov-31): duplicate id 'prov-31' (first at sources[0])"),
    (
        "unknown_connector_kind",
        "sources[0] (kab-3201): connector.kind: 'ftp' is not one of http, sql, file",
    ),
    ("unknown_mapping", "sources[0] (prov-31): mapping 'lapor_api_v9' is not in mappings.yaml"),
    ("bad_region_code", "sources[0] (kab-9999): region_code '99.99' is not in regions.csv"),
    (
        "wrong_timezone",
        "sources[0] (prov-51): timezone 'Asia/Jakarta' does not match region 51 (Bali), "
        "which is Asia/Makassar",
    ),
    (
        "bad_sql_identifier",
        "sources[0] (kab-3201): connector: options.table 'aduan; DROP TABLE aduan' is not a "
        "valid SQL identifier (^[A-Za-z_][A-Za-z0-9_]{0,62}$)",
    ),
    (
        "unit_without_parent",
        "sources[0] (kemendagri-dukcapil): parent is required for a unit "
        "(the id of its kementerian/lembaga)",
    ),
    (
        "bad_email",
        "sources[0] (prov-31): owner_email: 'pengaduan at jakarta.go.id' is not a valid "
        "e-mail address",
    ),
]


@pytest.mark.parametrize(("name", "message"), BROKEN_CASES)
def test_broken_registry_names_entry_and_field(name, message):
    with pytest.raises(RegistryError) as err:
        load_registry(BROKEN / f"{name}.yaml", MAPPINGS)
    assert err.value.problems == [message]
    assert message in str(err.value)


def test_mapping_missing_a_required_field():
    path = BROKEN / "mapping_missing_required.yaml"  # holds sources and mappings
    with pytest.raises(RegistryError) as err:
        load_registry(path, path)
    assert err.value.problems == ["mappings.no_status: columns: missing required field(s) status"]


def test_every_problem_is_reported_at_once():
    with pytest.raises(RegistryError) as err:
        load_registry(BROKEN / "many_problems.yaml", MAPPINGS)
    assert err.value.problems == [
        "sources[0] (Kota_Bogor): id: 'Kota_Bogor' must match [a-z0-9-]+ "
        "(lower case, digits, dashes)",
        "sources[0] (Kota_Bogor): region_code '32.01' is a kabupaten (Kabupaten Bogor), not a kota",
        "sources[0] (Kota_Bogor): timezone 'Asia/Jayapura' does not match region 32.01 "
        "(Kabupaten Bogor), which is Asia/Jakarta",
        "sources[1] (kota-3271): quarantine_threshold: 1.5 must be between 0 and 1",
        "sources[1] (kota-3271): region_code '32.01' is a kabupaten (Kabupaten Bogor), not a kota",
        "sources[2] (kab-3201-dinkes): connector: a http connector needs a conn_id",
        "sources[2] (kab-3201-dinkes): parent 'kota-3271' is a kota, not a kementerian or lembaga",
        "sources[3] (kemenkes): region_code must be null for a kementerian (central)",
        "sources[4]: must be a mapping, not str",
    ]
    assert str(err.value).startswith("9 problem(s) in ")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "nope.yaml", MAPPINGS)


def test_registry_yaml_is_read_safely_and_unreadable_yaml_is_a_clear_error(tmp_path):
    """The loader is libyaml's safe one: no Python objects from tags, and a syntax error names
    the file and says it is not valid YAML."""
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text("sources:\n  - !!python/object/apply:os.system ['true']\n")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(tagged, MAPPINGS)
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [unclosed\n")
    with pytest.raises(RegistryError, match=r"broken\.yaml: not valid YAML"):
        load_registry(broken, MAPPINGS)


def test_the_fast_loader_reads_the_shipped_registry_as_the_python_one_does():
    import yaml

    for name in ("sources.yaml", "sources.small.yaml", "mappings.yaml"):
        text = (INCLUDE_DIR / "registry" / name).read_text(encoding="utf-8")
        assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text)


# -- mapping model rules ----------------------------------------------------------------------

BASE_COLUMNS = {
    "complaint_id": "id",
    "classification": "k",
    "channel": "c",
    "is_rahasia": "r",
    "is_anonim": "a",
    "status": "s",
    "submitted_at": "t0",
    "updated_at": "t1",
}


def _mapping(**overrides):
    body = {"columns": dict(BASE_COLUMNS), "timestamps": {"formats": ["iso8601"]}}
    body.update(overrides)
    return Mapping.model_validate(body)


def test_mapping_rules():
    assert _mapping().timestamps.naive_is == "local"
    with pytest.raises(ValueError, match="unknown canonical field\\(s\\) source_id"):
        _mapping(columns={**BASE_COLUMNS, "source_id": "x"})
    with pytest.raises(ValueError, match="'DONE' maps to 'finished', which is not one of"):
        _mapping(values={"status": {"DONE": "finished"}})
    with pytest.raises(ValueError, match="'dd/mm' is neither one of"):
        _mapping(timestamps={"formats": ["dd/mm"]})
    with pytest.raises(ValueError, match="ya mean both true and false"):
        _mapping(booleans={"true": ["ya"], "false": ["YA "]})
    # YAML turns unquoted true/1 into bool/int: they are read back as words
    m = _mapping(booleans={True: [1, "ya"], False: [0, "tidak"]})
    assert m.booleans == {"true": ["1", "ya"], "false": ["0", "tidak"]}


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_check_ok_and_broken():
    runner = CliRunner()
    ok = runner.invoke(app, ["check", "--registry", str(REGISTRY / "sources.small.yaml")])
    assert ok.exit_code == 0
    assert "6 sources OK (2 file, 2 http, 2 sql), 3 mappings" in ok.output
    bad = runner.invoke(
        app,
        ["check", "--registry", str(BROKEN / "many_problems.yaml"), "--mappings", str(MAPPINGS)],
    )
    assert bad.exit_code == 1
    assert "9 problem(s)" in bad.output
    assert "sources[4]: must be a mapping, not str" in bad.output


def test_cli_list_formats():
    runner = CliRunner()
    small = str(REGISTRY / "sources.small.yaml")
    csv_out = runner.invoke(app, ["list", "--registry", small, "--kind", "sql", "--format", "csv"])
    assert csv_out.exit_code == 0
    lines = csv_out.output.strip().splitlines()
    assert lines[0] == ",".join(FRAME_COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == ["kota-3171", "kota-7371"]
    js = runner.invoke(app, ["list", "--registry", small, "--level", "unit", "--format", "json"])
    assert '"parent": "kemendagri"' in js.output
    table = runner.invoke(app, ["list", "--registry", small, "--province", "51"])
    assert "kab-5102" in table.output and "1 source(s)" in table.output
    bad = runner.invoke(app, ["list", "--registry", small, "--kind", "ftp"])
    assert bad.exit_code == 1
