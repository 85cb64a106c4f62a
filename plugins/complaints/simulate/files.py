"""File drops for the file sources: ``<drop_dir>/<source_id>/<YYYY-MM-DD>/`` per local day.

Sources differ the way real exports do: the format rotates by source (csv with ';' or ',', tsv,
xlsx, json, ndjson), some files are cp1252, some UTF-8 with a BOM, and dates are written
"22 Juni 2022 14:05" or "22/06/2022 14:05". A source's connector options (``encoding``,
``delimiter``) win over the rotation when the registry gives them. A day with no versions still
gets a file (headers only), so "the source delivered nothing" differs from "no delivery".
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from complaints.simulate.exports import COLUMNS, DATE_STYLES
from complaints.simulate.model import source_hash

PREFIX = "ekspor_aduan"


@dataclass(frozen=True)
class FileFormat:
    ext: str  # csv | tsv | xlsx | json | ndjson
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | cp1252
    delimiter: str = ","
    date_style: str = "id_long"


FORMATS = (
    FileFormat("csv", "utf-8", ";"),
    FileFormat("csv", "utf-8-sig", ","),
    FileFormat("tsv", "cp1252", "\t"),
    FileFormat("xlsx"),
    FileFormat("json", "utf-8"),
    FileFormat("ndjson", "utf-8"),
    FileFormat("csv", "cp1252", ";"),
    FileFormat("csv", "utf-8", ","),
)


def file_format(source) -> FileFormat:
    """The export format of a file source: rotated by id, overridden by connector options."""
    h = source_hash(source.id)
    base = FORMATS[h % len(FORMATS)]
    options = dict(getattr(getattr(source, "connector", None), "options", None) or {})
    style = DATE_STYLES[(h >> 8) % len(DATE_STYLES)]
    ext, encoding, delimiter = base.ext, base.encoding, base.delimiter
    if options.get("encoding"):
        encoding = str(options["encoding"]).lower().replace("_", "-")
        if ext in ("xlsx", "json", "ndjson") and encoding != "utf-8":
            ext = "csv"
    if options.get("delimiter"):
        delimiter = str(options["delimiter"])
        ext = "tsv" if delimiter == "\t" else "csv"
    return FileFormat(ext, encoding, delimiter, style)


def day_dir(drop_dir: Path, source_id: str, day: dt.date) -> Path:
    return Path(drop_dir) / source_id / day.isoformat()


def _records(table: pd.DataFrame) -> list[dict]:
    """JSON records: empty cells become null, ratings numbers where they are numbers."""
    rating = COLUMNS["ekspor_berkas"]["rating"]
    out = []
    for record in table.to_dict(orient="records"):
        record = {k: (v if v != "" else None) for k, v in record.items()}
        value = record.get(rating)
        if isinstance(value, str) and value.isdigit():
            record[rating] = int(value)
        out.append(record)
    return out


def write_day(
    drop_dir: Path, source_id: str, day: dt.date, table: pd.DataFrame, fmt: FileFormat
) -> Path:
    """Replace the day's drop folder content with one export file; returns its path."""
    folder = day_dir(drop_dir, source_id, day)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{PREFIX}_*"):
        old.unlink()
    path = folder / f"{PREFIX}_{source_id}_{day:%Y%m%d}.{fmt.ext}"
    tmp = path.with_name(path.name + ".tmp")
    if fmt.ext in ("csv", "tsv"):
        text = table.to_csv(sep=fmt.delimiter, index=False, lineterminator="\r\n")
        tmp.write_bytes(text.encode(fmt.encoding, errors="replace"))
    elif fmt.ext == "xlsx":
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            table.to_excel(writer, index=False, sheet_name="Aduan")
    elif fmt.ext == "json":
        tmp.write_text(
            json.dumps(_records(table), ensure_ascii=False, indent=1), encoding=fmt.encoding
        )
    elif fmt.ext == "ndjson":
        lines = [json.dumps(r, ensure_ascii=False) for r in _records(table)]
        tmp.write_text("".join(line + "\n" for line in lines), encoding=fmt.encoding)
    else:
        raise ValueError(f"unknown file format {fmt.ext!r}")
    tmp.replace(path)
    return path
