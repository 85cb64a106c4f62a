"""Generate include/registry/sources.yaml from regions.csv and the central institutions below.

The committed YAML is the source of truth; this script only makes the first version (and a
re-generation after a regions.csv update) reproducible. Run:
``python -m complaints.registry.generate [FOLDER]`` (writes sources.yaml and
sources.small.yaml). The assignment of connectors is deterministic:
provinces and central institutions read the LAPOR! API (http); kabupaten/kota read the shared
regional database (sql), except every 5th one (in regions.csv order), which drops files; every
3rd lembaga drops files too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from complaints.config import INCLUDE_DIR
from complaints.registry.loader import load_regions

HTTP = {"kind": "http", "conn_id": "lapor_api", "options": {}}
SQL = {
    "kind": "sql",
    "conn_id": "regional_db",
    "options": {"table": "aduan", "filter_column": "kode_satker", "updated_column": "tgl_update"},
}
FILE = {"kind": "file", "conn_id": None, "options": {}}
MAPPING = {"http": "lapor_api_v1", "sql": "simpel_db", "file": "ekspor_berkas"}

# (id, name, e-mail domain)
KEMENTERIAN = [
    ("kemenko-polkam", "Kementerian Koordinator Bidang Politik dan Keamanan", "polkam.go.id"),
    (
        "kemenko-kumham-imipas",
        "Kementerian Koordinator Bidang Hukum, Hak Asasi Manusia, Imigrasi, dan Pemasyarakatan",
        "kemenkokumhamimipas.go.id",
    ),
    ("kemenko-perekonomian", "Kementerian Koordinator Bidang Perekonomian", "ekon.go.id"),
    (
        "kemenko-pmk",
        "Kementerian Koordinator Bidang Pembangunan Manusia dan Kebudayaan",
        "kemenkopmk.go.id",
    ),
    (
        "kemenko-infra",
        "Kementerian Koordinator Bidang Infrastruktur dan Pembangunan Kewilayahan",
        "kemenkoinfra.go.id",
    ),
    ("kemenko-pangan", "Kementerian Koordinator Bidang Pangan", "kemenkopangan.go.id"),
    ("kemenko-pm", "Kementerian Koordinator Bidang Pemberdayaan Masyarakat", "kemenkopm.go.id"),
    ("kemensetneg", "Kementerian Sekretariat Negara", "setneg.go.id"),
    ("kemendagri", "Kementerian Dalam Negeri", "kemendagri.go.id"),
    ("kemlu", "Kementerian Luar Negeri", "kemlu.go.id"),
    ("kemhan", "Kementerian Pertahanan", "kemhan.go.id"),
    ("kemenag", "Kementerian Agama", "kemenag.go.id"),
    ("kemenkum", "Kementerian Hukum", "kemenkum.go.id"),
    ("kemenham", "Kementerian Hak Asasi Manusia", "kemenham.go.id"),
    ("kemenimipas", "Kementerian Imigrasi dan Pemasyarakatan", "kemenimipas.go.id"),
    ("kemenkeu", "Kementerian Keuangan", "kemenkeu.go.id"),
    ("kemendikdasmen", "Kementerian Pendidikan Dasar dan Menengah", "kemendikdasmen.go.id"),
    (
        "kemdiktisaintek",
        "Kementerian Pendidikan Tinggi, Sains, dan Teknologi",
        "kemdiktisaintek.go.id",
    ),
    ("kemenbud", "Kementerian Kebudayaan", "kemenbud.go.id"),
    ("kemenkes", "Kementerian Kesehatan", "kemkes.go.id"),
    ("kemensos", "Kementerian Sosial", "kemensos.go.id"),
    ("kemnaker", "Kementerian Ketenagakerjaan", "kemnaker.go.id"),
    ("kp2mi", "Kementerian Pelindungan Pekerja Migran Indonesia", "kp2mi.go.id"),
    ("kemenperin", "Kementerian Perindustrian", "kemenperin.go.id"),
    ("kemendag", "Kementerian Perdagangan", "kemendag.go.id"),
    ("kesdm", "Kementerian Energi dan Sumber Daya Mineral", "esdm.go.id"),
    ("kemenpu", "Kementerian Pekerjaan Umum", "pu.go.id"),
    ("kemenpkp", "Kementerian Perumahan dan Kawasan Permukiman", "pkp.go.id"),
    ("kemendesa", "Kementerian Desa dan Pembangunan Daerah Tertinggal", "kemendesa.go.id"),
    ("kementrans", "Kementerian Transmigrasi", "transmigrasi.go.id"),
    ("kemenhub", "Kementerian Perhubungan", "dephub.go.id"),
    ("komdigi", "Kementerian Komunikasi dan Digital", "komdigi.go.id"),
    ("kementan", "Kementerian Pertanian", "pertanian.go.id"),
    ("kemenhut", "Kementerian Kehutanan", "kehutanan.go.id"),
    ("kkp", "Kementerian Kelautan dan Perikanan", "kkp.go.id"),
    ("atr-bpn", "Kementerian Agraria dan Tata Ruang/Badan Pertanahan Nasional", "atrbpn.go.id"),
    ("bappenas", "Kementerian Perencanaan Pembangunan Nasional/Bappenas", "bappenas.go.id"),
    (
        "kemenpanrb",
        "Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi",
        "menpan.go.id",
    ),
    ("kemenbumn", "Kementerian Badan Usaha Milik Negara", "bumn.go.id"),
    ("kemenkop", "Kementerian Koperasi", "kemenkop.go.id"),
    ("kemenumkm", "Kementerian Usaha Mikro, Kecil, dan Menengah", "umkm.go.id"),
    ("kemenpar", "Kementerian Pariwisata", "kemenpar.go.id"),
    ("kemenekraf", "Kementerian Ekonomi Kreatif/Badan Ekonomi Kreatif", "kemenekraf.go.id"),
    ("kemenpppa", "Kementerian Pemberdayaan Perempuan dan Perlindungan Anak", "kemenpppa.go.id"),
    ("kemendukbangga", "Kementerian Kependudukan dan Pembangunan Keluarga/BKKBN", "bkkbn.go.id"),
    (
        "kemenlh",
        "Kementerian Lingkungan Hidup/Badan Pengendalian Lingkungan Hidup",
        "kemenlh.go.id",
    ),
    ("kemeninves", "Kementerian Investasi dan Hilirisasi/BKPM", "bkpm.go.id"),
    ("kemenpora", "Kementerian Pemuda dan Olahraga", "kemenpora.go.id"),
    ("kemenhaj", "Kementerian Haji dan Umrah", "kemenhaj.go.id"),
]

LEMBAGA = [
    ("ombudsman", "Ombudsman Republik Indonesia", "ombudsman.go.id"),
    ("bpjs-kesehatan", "BPJS Kesehatan", "bpjs-kesehatan.go.id"),
    ("bpjs-ketenagakerjaan", "BPJS Ketenagakerjaan", "bpjsketenagakerjaan.go.id"),
    ("bpom", "Badan Pengawas Obat dan Makanan", "pom.go.id"),
    ("bnn", "Badan Narkotika Nasional", "bnn.go.id"),
    ("bps", "Badan Pusat Statistik", "bps.go.id"),
    ("polri", "Kepolisian Negara Republik Indonesia", "polri.go.id"),
    ("kejaksaan", "Kejaksaan Republik Indonesia", "kejaksaan.go.id"),
    ("mahkamah-agung", "Mahkamah Agung Republik Indonesia", "mahkamahagung.go.id"),
    ("mk", "Mahkamah Konstitusi Republik Indonesia", "mkri.go.id"),
    ("kpk", "Komisi Pemberantasan Korupsi", "kpk.go.id"),
    ("bkn", "Badan Kepegawaian Negara", "bkn.go.id"),
    ("lan", "Lembaga Administrasi Negara", "lan.go.id"),
    ("anri", "Arsip Nasional Republik Indonesia", "anri.go.id"),
    ("bnpb", "Badan Nasional Penanggulangan Bencana", "bnpb.go.id"),
    ("bnpt", "Badan Nasional Penanggulangan Terorisme", "bnpt.go.id"),
    ("basarnas", "Badan Nasional Pencarian dan Pertolongan", "basarnas.go.id"),
    ("bmkg", "Badan Meteorologi, Klimatologi, dan Geofisika", "bmkg.go.id"),
    ("big", "Badan Informasi Geospasial", "big.go.id"),
    ("brin", "Badan Riset dan Inovasi Nasional", "brin.go.id"),
    ("bssn", "Badan Siber dan Sandi Negara", "bssn.go.id"),
    ("bakamla", "Badan Keamanan Laut Republik Indonesia", "bakamla.go.id"),
    ("bpkp", "Badan Pengawasan Keuangan dan Pembangunan", "bpkp.go.id"),
    ("lkpp", "Lembaga Kebijakan Pengadaan Barang/Jasa Pemerintah", "lkpp.go.id"),
    ("bpip", "Badan Pembinaan Ideologi Pancasila", "bpip.go.id"),
    ("bgn", "Badan Gizi Nasional", "bgn.go.id"),
    ("bapanas", "Badan Pangan Nasional", "badanpangan.go.id"),
    ("barantin", "Badan Karantina Indonesia", "karantinaindonesia.go.id"),
    ("bsn", "Badan Standardisasi Nasional", "bsn.go.id"),
    ("bapeten", "Badan Pengawas Tenaga Nuklir", "bapeten.go.id"),
    ("perpusnas", "Perpustakaan Nasional Republik Indonesia", "perpusnas.go.id"),
    ("bpjph", "Badan Penyelenggara Jaminan Produk Halal", "halal.go.id"),
    (
        "bp-batam",
        "Badan Pengusahaan Kawasan Perdagangan Bebas dan Pelabuhan Bebas Batam",
        "bpbatam.go.id",
    ),
    ("bpks", "Badan Pengusahaan Kawasan Sabang", "bpks.go.id"),
    ("ojk", "Otoritas Jasa Keuangan", "ojk.go.id"),
    ("bi", "Bank Indonesia", "bi.go.id"),
    ("lps", "Lembaga Penjamin Simpanan", "lps.go.id"),
    ("kpu", "Komisi Pemilihan Umum", "kpu.go.id"),
    ("bawaslu", "Badan Pengawas Pemilihan Umum", "bawaslu.go.id"),
    ("dkpp", "Dewan Kehormatan Penyelenggara Pemilu", "dkpp.go.id"),
    ("komnas-ham", "Komisi Nasional Hak Asasi Manusia", "komnasham.go.id"),
    (
        "komnas-perempuan",
        "Komisi Nasional Anti Kekerasan terhadap Perempuan",
        "komnasperempuan.go.id",
    ),
    ("kpai", "Komisi Perlindungan Anak Indonesia", "kpai.go.id"),
    ("kppu", "Komisi Pengawas Persaingan Usaha", "kppu.go.id"),
    ("kip", "Komisi Informasi Pusat", "komisiinformasi.go.id"),
    ("ky", "Komisi Yudisial Republik Indonesia", "komisiyudisial.go.id"),
    ("kpi", "Komisi Penyiaran Indonesia", "kpi.go.id"),
    ("lpsk", "Lembaga Perlindungan Saksi dan Korban", "lpsk.go.id"),
    ("ppatk", "Pusat Pelaporan dan Analisis Transaksi Keuangan", "ppatk.go.id"),
    ("bpk", "Badan Pemeriksa Keuangan", "bpk.go.id"),
    ("otorita-ikn", "Otorita Ibu Kota Nusantara", "ikn.go.id"),
    ("tni", "Tentara Nasional Indonesia", "tni.mil.go.id"),
    ("setkab", "Sekretariat Kabinet", "setkab.go.id"),
    ("ksp", "Kantor Staf Presiden", "ksp.go.id"),
    ("lemhannas", "Lembaga Ketahanan Nasional", "lemhannas.go.id"),
    ("bnpp", "Badan Nasional Pengelola Perbatasan", "bnpp.go.id"),
    ("brgm", "Badan Restorasi Gambut dan Mangrove", "brgm.go.id"),
    ("bph-migas", "Badan Pengatur Hilir Minyak dan Gas Bumi", "bphmigas.go.id"),
    (
        "skk-migas",
        "Satuan Kerja Khusus Pelaksana Kegiatan Usaha Hulu Minyak dan Gas Bumi",
        "skkmigas.go.id",
    ),
    ("bpkh", "Badan Pengelola Keuangan Haji", "bpkh.go.id"),
    ("baznas", "Badan Amil Zakat Nasional", "baznas.go.id"),
    ("bwi", "Badan Wakaf Indonesia", "bwi.go.id"),
    ("tvri", "Lembaga Penyiaran Publik Televisi Republik Indonesia", "tvri.go.id"),
    ("rri", "Lembaga Penyiaran Publik Radio Republik Indonesia", "rri.go.id"),
    ("bakom", "Badan Komunikasi Pemerintah", "bakom.go.id"),
]

# (id, name, parent, e-mail domain)
UNITS = [
    (
        "kemendagri-dukcapil",
        "Direktorat Jenderal Kependudukan dan Pencatatan Sipil",
        "kemendagri",
        "dukcapil.kemendagri.go.id",
    ),
    (
        "kemendagri-otda",
        "Direktorat Jenderal Otonomi Daerah",
        "kemendagri",
        "otda.kemendagri.go.id",
    ),
    ("kemenkeu-djp", "Direktorat Jenderal Pajak", "kemenkeu", "pajak.go.id"),
    ("kemenkeu-djbc", "Direktorat Jenderal Bea dan Cukai", "kemenkeu", "beacukai.go.id"),
    ("kemenimipas-imigrasi", "Direktorat Jenderal Imigrasi", "kemenimipas", "imigrasi.go.id"),
    ("kemenimipas-pas", "Direktorat Jenderal Pemasyarakatan", "kemenimipas", "ditjenpas.go.id"),
    ("kemenhub-hubdat", "Direktorat Jenderal Perhubungan Darat", "kemenhub", "hubdat.dephub.go.id"),
    ("kemenhub-hubud", "Direktorat Jenderal Perhubungan Udara", "kemenhub", "hubud.dephub.go.id"),
    (
        "kemenkes-yankes",
        "Direktorat Jenderal Pelayanan Kesehatan",
        "kemenkes",
        "yankes.kemkes.go.id",
    ),
    (
        "kemenag-bimas-islam",
        "Direktorat Jenderal Bimbingan Masyarakat Islam",
        "kemenag",
        "bimasislam.kemenag.go.id",
    ),
    (
        "kemnaker-binwasnaker",
        "Direktorat Jenderal Pembinaan Pengawasan Ketenagakerjaan dan K3",
        "kemnaker",
        "binwasnaker.kemnaker.go.id",
    ),
    (
        "kemendikdasmen-bahasa",
        "Badan Pengembangan dan Pembinaan Bahasa",
        "kemendikdasmen",
        "badanbahasa.kemendikdasmen.go.id",
    ),
    (
        "kemensos-linjamsos",
        "Direktorat Jenderal Perlindungan dan Jaminan Sosial",
        "kemensos",
        "linjamsos.kemensos.go.id",
    ),
    (
        "polri-korlantas",
        "Korps Lalu Lintas Kepolisian Negara Republik Indonesia",
        "polri",
        "korlantas.polri.go.id",
    ),
    (
        "atr-bpn-ptsl",
        "Direktorat Jenderal Penetapan Hak dan Pendaftaran Tanah",
        "atr-bpn",
        "phpt.atrbpn.go.id",
    ),
]

PROVINCE_DOMAINS = {"31": "jakarta.go.id", "34": "jogjaprov.go.id"}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _entry(sid, name, level, region_code, timezone, domain, connector, parent=None) -> dict:
    return {
        "id": sid,
        "name": name,
        "level": level,
        "parent": parent,
        "region_code": region_code,
        "timezone": timezone,
        "owner_email": f"pengaduan@{domain}",
        "connector": dict(connector, options=dict(connector["options"])),
        "mapping": MAPPING[connector["kind"]],
    }


def build_sources() -> list[dict]:
    """Every province, kabupaten and kota of regions.csv, then the central institutions."""
    out = []
    regional_index = 0
    for region in load_regions().values():
        if region.level == "provinsi":
            domain = PROVINCE_DOMAINS.get(region.code, _slug(region.name) + "prov.go.id")
            out.append(
                _entry(
                    f"prov-{region.code}",
                    f"Pemerintah Provinsi {region.name}",
                    "provinsi",
                    region.code,
                    region.timezone,
                    domain,
                    HTTP,
                )
            )
            continue
        bare = re.sub(r"^(Kabupaten|Kota)( Administrasi)? ", "", region.name)
        suffix = "kab" if region.level == "kabupaten" else "kota"
        connector = FILE if regional_index % 5 == 4 else SQL
        regional_index += 1
        out.append(
            _entry(
                f"{suffix}-{region.code.replace('.', '')}",
                f"Pemerintah {region.name}",
                region.level,
                region.code,
                region.timezone,
                _slug(bare) + suffix + ".go.id",
                connector,
            )
        )
    for sid, name, domain in KEMENTERIAN:
        out.append(_entry(sid, name, "kementerian", None, "Asia/Jakarta", domain, HTTP))
    for i, (sid, name, domain) in enumerate(LEMBAGA):
        connector = FILE if i % 3 == 2 else HTTP
        out.append(_entry(sid, name, "lembaga", None, "Asia/Jakarta", domain, connector))
    for sid, name, parent, domain in UNITS:
        out.append(_entry(sid, name, "unit", None, "Asia/Jakarta", domain, HTTP, parent=parent))
    return out


#: the small registry for tests and the quick demo: 2 http, 2 sql, 2 file. A unit's parent must be
#: in the registry, so kemendagri (parent of kemendagri-dukcapil) is here, reading dropped files.
SMALL = {
    "prov-31": HTTP,
    "kemendagri-dukcapil": HTTP,
    "kota-3171": SQL,
    "kota-7371": SQL,
    "kab-5102": FILE,
    "kemendagri": FILE,
}


def build_small(sources: list[dict]) -> list[dict]:
    by_id = {s["id"]: s for s in sources}
    out = []
    for sid, connector in SMALL.items():
        entry = dict(by_id[sid], connector=dict(connector, options=dict(connector["options"])))
        entry["mapping"] = MAPPING[connector["kind"]]
        out.append(entry)
    return out


HEADER = """\
# The source registry: one entry per institution that sends complaints to the pipeline.
# Generated once by plugins/complaints/registry/generate.py; this file is the source of truth
# and is edited by review from now on. Check it with `complaints sources check`.
# Fields: docs/architecture.md#registry. province_code and population come from regions.csv.
"""


def dump(sources: list[dict]) -> str:
    body = yaml.safe_dump(
        {"sources": sources},
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,
    )
    return HEADER + body


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else INCLUDE_DIR / "registry"
    sources = build_sources()
    for name, chosen in (("sources.yaml", sources), ("sources.small.yaml", build_small(sources))):
        (folder / name).write_text(dump(chosen), encoding="utf-8")
        print(f"wrote {len(chosen)} sources to {folder / name}")


if __name__ == "__main__":
    main()
