"""Reporters and complaint texts in Indonesian, derived from a complaint's uniforms.

Everything here is fake. Texts sometimes repeat the reporter's phone number or NIK, the way real
reporters write them, so that masking has something to find. All text is cp1252-safe.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Agus",
    "Budi",
    "Siti",
    "Dewi",
    "Rina",
    "Ahmad",
    "Putri",
    "Eko",
    "Sri",
    "Wahyu",
    "Nur",
    "Rudi",
    "Fitri",
    "Hendra",
    "Yusuf",
    "Indah",
    "Bambang",
    "Ratna",
    "Andi",
    "Maria",
    "Made",
    "Komang",
    "Ketut",
    "Yohanes",
    "Fransiska",
    "Teuku",
    "Cut",
    "Rahmat",
    "Lestari",
    "Dian",
)
LAST_NAMES = (
    "Santoso",
    "Wijaya",
    "Saputra",
    "Hidayat",
    "Lestari",
    "Kurniawan",
    "Pratama",
    "Siregar",
    "Nasution",
    "Simanjuntak",
    "Harahap",
    "Wibowo",
    "Setiawan",
    "Susanti",
    "Rahayu",
    "Putra",
    "Sari",
    "Gunawan",
    "Halim",
    "Tanjung",
    "Manurung",
    "Pangaribuan",
    "Sitorus",
    "Lubis",
)
MAIL_DOMAINS = ("gmail.com", "yahoo.co.id", "yahoo.com", "outlook.com", "mail.id")

TITLES = {
    "Kependudukan": (
        "KTP elektronik belum jadi",
        "Kartu Keluarga salah data",
        "Akta kelahiran belum terbit",
        "Pindah domisili dipersulit",
    ),
    "Kesehatan": (
        "Pelayanan puskesmas lambat",
        "Kartu BPJS tidak aktif",
        "Obat di RSUD kosong",
        "Antrean rumah sakit terlalu lama",
    ),
    "Infrastruktur": (
        "Jalan rusak berlubang",
        "Jembatan hampir putus",
        "Lampu jalan mati",
        "Drainase tersumbat",
    ),
    "Pendidikan": (
        "Dana BOS tidak transparan",
        "Pungutan di sekolah",
        "PPDB zonasi bermasalah",
        "Guru honorer belum digaji",
    ),
    "Sosial": ("Bansos tidak tepat sasaran", "PKH belum cair", "Data DTKS tidak diperbarui"),
    "Lingkungan Hidup": ("Sampah menumpuk", "Pencemaran sungai", "Asap pabrik mengganggu"),
    "Ketenagakerjaan": ("Gaji di bawah UMR", "PHK sepihak", "BPJS Ketenagakerjaan sulit cair"),
    "Perhubungan": (
        "Pungli di jembatan timbang",
        "Angkot ngetem sembarangan",
        "Uji KIR dipersulit",
    ),
    "Pertanahan": ("Sertifikat tanah tidak selesai", "Sengketa batas tanah"),
    "Energi dan Listrik": ("Listrik sering padam", "Tagihan listrik melonjak"),
    "Ketertiban Umum": ("Parkir liar", "Pedagang di trotoar", "Balap liar tiap malam"),
    "Perpajakan": ("Denda PBB tidak wajar", "Pelayanan samsat lambat"),
}
OPENINGS = (
    "Selamat siang, saya ingin melaporkan",
    "Mohon bantuan Bapak/Ibu terkait",
    "Dengan hormat, saya warga yang mengeluhkan",
    "Assalamualaikum, izin menyampaikan keluhan tentang",
    "Saya sudah berkali-kali datang tetapi belum ada kejelasan soal",
)
CLOSINGS = (
    "Mohon segera ditindaklanjuti. Terima kasih.",
    "Sudah lebih dari dua minggu belum ada tanggapan.",
    "Kami berharap ada perbaikan secepatnya.",
    "Terima kasih atas perhatiannya.",
)


def _index(u: float, n: int) -> int:
    return min(int(u * n), n - 1)


def _digits(u: float, n: int, salt: int = 0) -> str:
    """n pseudo-random digits from one uniform."""
    x = int(u * 2**52) ^ (salt * 0x9E3779B97F4A7C15 & (2**52 - 1))
    out = []
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(str((x >> 33) % 10))
    return "".join(out)


def reporter(
    u_name1: float, u_name2: float, u_phone: float, u_nik: float, u_email: float, province_code: str
) -> dict[str, str | None]:
    """Name, phone (08...), e-mail (sometimes missing) and a 16-digit NIK."""
    first = FIRST_NAMES[_index(u_name1, len(FIRST_NAMES))]
    last = LAST_NAMES[_index(u_name2, len(LAST_NAMES))]
    digits = _digits(u_phone, 10)
    phone = "08" + str(1 + int(digits[0]) % 9) + digits[1 : 9 + int(digits[9]) % 3]
    nik_digits = _digits(u_nik, 12, salt=7)
    day = 1 + int(nik_digits[0:2]) % 28 + (40 if int(nik_digits[2]) % 2 else 0)
    month = 1 + int(nik_digits[3:5]) % 12
    year = int(nik_digits[5:7])
    kab = 1 + int(nik_digits[7:9]) % 30
    nik = (
        f"{province_code[:2]:0>2}{kab:02d}{1 + int(nik_digits[9]) % 9:02d}"
        f"{day:02d}{month:02d}{year:02d}{1 + int(nik_digits[10:12]):04d}"
    )
    domain = MAIL_DOMAINS[_index(u_email, len(MAIL_DOMAINS))]
    email = None if u_email > 0.85 else f"{first.lower()}.{last.lower()}{digits[:2]}@{domain}"
    return {
        "reporter_name": f"{first} {last}",
        "reporter_phone": phone,
        "reporter_email": email,
        "reporter_nik": nik,
    }


def complaint_text(
    category: str, u_title: float, u_body: float, u_pii: float, phone: str, nik: str, place: str
) -> tuple[str, str]:
    """(title, body); about 8% of bodies carry the phone, 4% the NIK, 2% the title a phone."""
    titles = TITLES.get(category, ("Pelayanan publik bermasalah",))
    title = titles[_index(u_title, len(titles))]
    opening = OPENINGS[_index(u_body, len(OPENINGS))]
    closing = CLOSINGS[_index((u_body * 31) % 1, len(CLOSINGS))]
    body = f"{opening} {title.lower()} di wilayah {place}. {closing}"
    if u_pii < 0.08:
        body += f" Hubungi saya di {phone}."
    elif u_pii < 0.12:
        body += f" NIK saya {nik}."
    elif u_pii < 0.14:
        title = f"{title} (hub {phone})"
    return title, body
