"""The drop-folder connector: files a source delivers for one day, claimed once.

Files live in ``<drop_dir>/<source_id>/<YYYY-MM-DD>/`` (csv, tsv, txt, xlsx, json, ndjson,
jsonl; see ``file_formats``). The first read of a day claims the files it finds in a manifest,
``<state_dir>/claims/<source_id>/<YYYY-MM-DD>.json`` (name, size, sha256). A rerun reads the
claimed files again, in the same order (so ``_row`` positions are stable), warns when one has
changed since it was claimed, and fails when one has gone; files that appear later in a claimed
day are added to the end of the claim. Uploaders should write under a temporary name
(``.part``, ``.tmp``) and rename when done: such names are never claimed.

Names that could escape the folder are skipped and noted: ``..`` in a name, path separators,
symlinks resolving outside the folder. Hidden files, sub-folders and unknown extensions are
skipped and noted too. Each batch gets a ``_file`` column (the file name). Empty and header-only
files yield nothing and are noted in ``notes``; a file that cannot be read raises SourceError
naming it.

Options: ``pattern`` (a glob the file names must match; others are skipped and noted), ``encoding``
(fixed instead of detected), ``delimiter`` (``,`` ``;`` ``tab`` ``|`` instead of sniffed), ``sheet``
(the one XLSX sheet to read), ``batch_rows`` (50,000), ``updated_column`` (none: when given,
``max_updated`` reports the largest value of that column, as ISO 8601 UTC where it parses;
``updated_is``, ``local`` by default, says what a naive value means).
"""

from __future__ import annotations

import codecs
import fnmatch
import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from complaints.connectors.base import Connector, SourceError, UpdatedTracker, Window
from complaints.connectors.file_formats import (
    DELIMITERS,
    EXTENSIONS,
    FileStats,
    ReadOptions,
    UnreadableFile,
    read_any,
)
from complaints.connectors.filescan import scan

log = logging.getLogger(__name__)

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
IN_PROGRESS = (".part", ".tmp", ".crdownload", ".partial")
#: days before a source-day whose folders are checked for files dropped after they were read
LATE_LOOKBACK_DAYS = 7


def sha256_of(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file; its ``filescan`` is remembered for reading it next."""
    found = scan(path)
    return found.size, found.sha256


def unsafe_reason(folder: Path, name: str) -> str | None:
    """Why ``name`` must not be read from ``folder`` (None when it is safe)."""
    if not name or ".." in name or "/" in name or "\\" in name or os.path.isabs(name):
        return "unsafe file name"
    path = folder / name
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken link" if path.is_symlink() else None
    if not resolved.is_relative_to(folder.resolve()):
        return "symlink pointing outside the drop folder"
    return None


class FileConnector(Connector):
    kind = "file"

    def __init__(self, source, settings):
        super().__init__(source, settings)
        if not SAFE_ID.match(self.source_id) or ".." in self.source_id:
            raise self.error("source id is not usable as a folder name")
        self.drop_root = Path(settings.drop_dir) / self.source_id
        self.claims_root = Path(settings.state_dir) / "claims" / self.source_id
        self.updated_column = self.options.get("updated_column")
        self.updated_is = self.opt_choice("updated_is", "local", ("local", "utc"))
        _ = self.batch_rows  # validate the option now
        self.pattern = self.options.get("pattern")
        self.read_options = self._read_options()

    def _read_options(self) -> ReadOptions:
        delimiter = self.options.get("delimiter")
        if delimiter in ("tab", "\\t"):
            delimiter = "\t"
        if delimiter is not None and delimiter not in DELIMITERS:
            raise self.error(f"option delimiter must be one of , ; tab |, not {delimiter!r}")
        encoding = self.options.get("encoding")
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except (LookupError, TypeError):
                raise self.error(f"option encoding {encoding!r} is not a known encoding") from None
        sheet = self.options.get("sheet")
        return ReadOptions(delimiter=delimiter, encoding=encoding, sheet=sheet and str(sheet))

    def describe(self) -> str:
        return f"file drop folder {self.drop_root}/<day> ({', '.join(EXTENSIONS)})"

    def folder(self, day: date) -> Path:
        return self.drop_root / day.isoformat()

    def _check_inside_drop_dir(self, folder: Path) -> None:
        """Refuse a source or day folder that is a link out of the drop folder."""
        if not folder.exists():
            return
        root = Path(self.settings.drop_dir).resolve()
        if not folder.resolve().is_relative_to(root):
            raise self.error(f"{folder.name}: folder resolves outside the drop folder; not read")

    def manifest_path(self, day: date) -> Path:
        return self.claims_root / f"{day.isoformat()}.json"

    # claims ---------------------------------------------------------------------------
    def _load_claim(self, day: date) -> dict:
        path = self.manifest_path(day)
        if not path.exists():
            return {"source_id": self.source_id, "day": day.isoformat(), "files": []}
        try:
            claim = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(claim.get("files"), list):
                raise ValueError("no file list")
        except (ValueError, AttributeError) as exc:
            raise self.error(f"claims manifest {path.name} is unreadable ({exc})") from None
        return claim

    def _save_claim(self, day: date, claim: dict) -> None:
        path = self.manifest_path(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(claim, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def _scan(self, folder: Path, note: bool = True) -> list[str]:
        """Readable file names in the folder, sorted; everything skipped is noted."""
        if not folder.is_dir():
            return []
        names = []
        for entry in sorted(os.listdir(folder)):
            path = folder / entry
            reason = unsafe_reason(folder, entry)
            if reason is None:
                if entry.startswith(".") or entry.startswith("~$"):
                    reason = "hidden or lock file"
                elif entry.lower().endswith(IN_PROGRESS):
                    reason = "still being written"
                elif not path.is_file():
                    reason = "not a regular file"
                elif path.suffix.lower() not in EXTENSIONS:
                    reason = f"unsupported extension {path.suffix or '(none)'!r}"
                elif self.pattern and not fnmatch.fnmatch(entry, str(self.pattern)):
                    reason = f"does not match pattern {self.pattern!r}"
            if reason is not None and not note:
                continue
            if reason is not None:
                self.notes.append(f"{entry}: skipped ({reason})")
                if "outside" in reason or "unsafe" in reason:
                    log.warning("source %s: skipped %r: %s", self.source_id, entry, reason)
                continue
            names.append(entry)
        return names

    def claim(self, day: date) -> list[str]:
        """The files to read for ``day``, in claim order; updates the manifest."""
        folder = self.folder(day)
        self._check_inside_drop_dir(folder)
        claim = self._load_claim(day)
        changed = False
        claimed = []
        for entry in claim["files"]:
            name = str(entry.get("name", ""))
            reason = unsafe_reason(folder, name)
            if reason is not None:
                raise self.error(f"claims manifest names {name!r}: {reason}")
            path = folder / name
            if not path.is_file():
                raise self.error(f"file {name} was claimed for {day} but is no longer there")
            size, digest = sha256_of(path)
            if (size, digest) != (entry.get("size"), entry.get("sha256")):
                message = f"{name}: changed since it was claimed (now {size} bytes); read again"
                log.warning("source %s: %s", self.source_id, message)
                self.notes.append(message)
                entry.update(size=size, sha256=digest, changed_at=_now())
                changed = True
            claimed.append(name)
        for name in self._scan(folder):
            if name in claimed:
                continue
            size, digest = sha256_of(folder / name)
            claim["files"].append(
                {"name": name, "size": size, "sha256": digest, "claimed_at": _now()}
            )
            claimed.append(name)
            changed = True
        if changed:
            self._save_claim(day, claim)
        return claimed

    def late_files(self, day: date) -> dict[date, list[str]]:
        """Files dropped into the folder of one of the ``LATE_LOOKBACK_DAYS`` days before
        ``day`` after that day was read: no later day reads them, only a rerun of theirs."""
        late = {}
        for back in range(1, LATE_LOOKBACK_DAYS + 1):
            earlier = day - timedelta(days=back)
            folder = self.folder(earlier)
            if not folder.is_dir() or not self.manifest_path(earlier).exists():
                continue  # never read: its own run (or a backfill) will claim them
            try:
                claimed = {str(f.get("name")) for f in self._load_claim(earlier)["files"]}
                self._check_inside_drop_dir(folder)
            except (SourceError, OSError):  # that day's own run reports a bad folder
                continue
            names = [n for n in self._scan(folder, note=False) if n not in claimed]
            if names:
                late[earlier] = names
        return late

    # reading --------------------------------------------------------------------------
    def read(self, window: Window) -> Iterator[pa.Table]:
        self.notes = []
        self.max_updated = None
        folder = self.folder(window.day)
        for earlier, late in self.late_files(window.day).items():
            message = (
                f"{earlier}: {len(late)} files dropped after that day was read "
                f"({', '.join(late[:5])}); rerun {earlier} to read them"
            )
            log.warning("source %s: %s", self.source_id, message)
            self.notes.append(message)
        names = self.claim(window.day)
        if not names:
            self.notes.append(f"no files for {window.day} in the drop folder")
            return
        tracker = UpdatedTracker(window.tz, naive_is=self.updated_is)
        for name in names:
            yield from self._read_file(folder / name, tracker)
        self.max_updated = tracker.value

    def _read_file(self, path: Path, tracker: UpdatedTracker) -> Iterator[pa.Table]:
        name = path.name
        stats = FileStats()
        try:
            for table in read_any(path, self.batch_rows, stats, self.read_options):
                if self.updated_column and self.updated_column in table.column_names:
                    tracker.observe_column(table.column(self.updated_column))
                yield table.append_column(
                    "_file", pa.repeat(pa.scalar(name, pa.string()), table.num_rows)
                )
        except UnreadableFile as exc:
            raise self.error(f"file {name} is unreadable: {exc}") from None
        except OSError as exc:
            raise self.error(f"file {name} is unreadable: {exc.strerror or exc}") from None
        self._note(name, stats)

    def _note(self, name: str, stats: FileStats) -> None:
        notes = self.notes
        if stats.encoding == "cp1252":
            notes.append(f"{name}: not UTF-8, read as Windows-1252")
        elif stats.encoding.startswith("mixed"):
            notes.append(f"{name}: {stats.encoding}, each line decoded on its own")
        if stats.nul_removed:
            notes.append(f"{name}: removed {stats.nul_removed} NUL bytes")
        if stats.repeated_headers:
            notes.append(f"{name}: dropped {stats.repeated_headers} repeated header rows")
        if stats.long_rows:
            notes.append(f"{name}: {stats.long_rows} rows had more fields than the header (_extra)")
        if stats.bad_lines:
            shown = ", ".join(str(n) for n in stats.bad_lines[:10])
            notes.append(
                f"{name}: {len(stats.bad_lines)} lines are not JSON objects (line {shown}); "
                "yielded as empty rows"
            )
        notes.extend(f"{name}: {note}" for note in stats.notes)
        if stats.rows == 0:
            notes.append(f"{name}: {'header only' if stats.header_only else 'empty'}, 0 rows")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
