"""Text withdrawn from a complaint's earlier versions when it is marked rahasia later.

DOMAIN.md: a rahasia complaint's text never leaves the institution it was sent to. The flag is
read version by version (``privacy.pseudonymise`` nulls a rahasia row's text before anything
is written), but an admin may mark a complaint confidential after it was received, and its
earlier versions then hold text that must go too. The rule kept here:

**a version that comes before one of its complaint's rahasia versions** (in the merge's order:
``updated_at``, ``seen_day``, ``version_seq``) **holds no text**: neither its history row (title
and body) nor the raw rows carrying its complaint id on the day it was received (every text
column the mapping does not name for a non-text field). Versions after the flag was taken off
again keep their own text. Withdrawn text is not restored.

Publishing a source-day keeps the rule true (``DayMerge`` finds the rows, ``stage_source_day``
rewrites the files in the same transaction):

- ``own``: the day's versions that come before a rahasia version of their complaint, in the
  day itself or as the complaint's current row (a backfill of an earlier day), lose their text
  in the day's staged history and raw files;
- ``earlier``: when the day brings a rahasia version of a complaint whose current row is not
  rahasia (the flag turned on), the other days' history files holding its earlier versions
  with text, and those days' raw files, are rewritten.

A complaint whose current row is already rahasia needs no look back: the versions before that
row lost their text when it was published. Only the days between a flipped complaint's first
and last seen day are read, so the look back costs nothing on a day without a flip.

Quarantined rows have no place in the merge's order (their timestamps may be what failed), so
for them the rule is wider: **a quarantined row of a complaint rahasia on its day, or marked
rahasia later, holds no text** (``raw`` JSON values of the same columns as the raw layer's,
and the raw-layer row it came from):

- the day's own quarantined rows of complaints with a rahasia version that day or a rahasia
  current row, whether or not the day brings a version of them (``marked``);
- other days' quarantined rows of complaints with a rahasia version today and no rahasia
  current row (``quarantine_targets``: the flag turned on, or every earlier row of the
  complaint was quarantined), from the day before it was submitted or first seen on.

``history_marks`` serves the sweep (``Warehouse.withdraw_text``) that applies the rule to a
source's whole history at once, for a warehouse written before publishes kept it (there, every
quarantined row of a complaint with a rahasia version loses its text).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from complaints.warehouse import layout
from complaints.warehouse.storage import Storage

#: a version's place in the merge's order, comparable as a whole
_KEY = "struct_pack(u := {t}.updated_at, d := {t}.seen_day, s := {t}.version_seq)"
#: the version ``v`` comes before its complaint's latest rahasia version ``m.mark`` and has text
_BEFORE = _KEY.format(t="v") + " < m.mark AND (v.title IS NOT NULL OR v.body IS NOT NULL)"
#: a current row's place in its day is unknown: after all of that day's versions
_LAST_SEQ = 2**31 - 1
#: each complaint's latest rahasia version known to the merge: the day's history ``new_h``, and
#: ``existing`` current rows (when there are any) seen on another day
_MARKS = f"""marks AS (
  SELECT complaint_id, max(mark) AS mark FROM (
    SELECT complaint_id, {_KEY.format(t="h")} AS mark FROM new_h h WHERE is_rahasia
    {{existing}})
  GROUP BY complaint_id)"""  # noqa: S608 - constants only
_EXISTING_MARKS = f"""UNION ALL SELECT complaint_id, struct_pack(u := updated_at, d := seen_day,
      s := {_LAST_SEQ}::INTEGER) FROM existing WHERE is_rahasia AND seen_day <> $d"""  # noqa: S608
#: one query, two kinds of rows: the day's own versions to withdraw (``version_seq`` set) and
#: the complaints whose flag turned on today (current row not rahasia; ``mark`` set)
_FIND = f"""WITH {_MARKS}
SELECT v.version_seq, v.complaint_id, NULL::DATE AS first_seen_day, NULL::DATE AS last_seen_day,
  NULL AS mark
FROM new_h v JOIN marks m USING (complaint_id) WHERE {_BEFORE}
{{flips}}"""  # noqa: S608 - constants only
_FLIPS = """UNION ALL SELECT NULL, m.complaint_id, e.first_seen_day, e.last_seen_day, m.mark
FROM marks m JOIN existing e USING (complaint_id) WHERE NOT coalesce(e.is_rahasia, false)"""


class RawText(Protocol):
    """How a source's raw-layer rows are found by complaint id and their text withdrawn
    (``privacy.RawText``)."""

    def withdraw(self, table: pa.Table, complaint_ids: pa.Array) -> pa.Table | None:
        """``table`` with the text of the complaints' rows nulled; None when no row matches."""

    def json_without_text(self, text: str) -> str | None:
        """A quarantined row's ``raw`` JSON with its text values null."""


@dataclass
class Withdrawal:
    """What a source-day publish must withdraw: ``own`` (the day's ``version_seq`` values and
    their complaint ids) and ``flipped`` (complaints whose flag turned on today, with the key of
    their latest rahasia version and the days their earlier versions can be in)."""

    own_seqs: pa.Array
    own_ids: pa.Array
    flipped: pa.Table  # complaint_id, first_seen_day, last_seen_day, mark

    @classmethod
    def find(cls, con: duckdb.DuckDBPyConnection, day: date, has_existing: bool) -> Withdrawal:
        """From the merge's ``new_h`` (and ``existing`` when ``has_existing``)."""
        query = _FIND.format(
            existing=_EXISTING_MARKS if has_existing else "", flips=_FLIPS if has_existing else ""
        )
        found = con.sql(query, params={"d": day} if has_existing else None).to_arrow_table()
        own = found.filter(pc.is_valid(found["version_seq"]))
        flipped = found.filter(pc.is_null(found["version_seq"])).drop_columns(["version_seq"])
        return cls(
            own.column("version_seq").combine_chunks(),
            pc.unique(own.column("complaint_id").combine_chunks()),
            flipped,
        )

    def __bool__(self) -> bool:
        return len(self.own_seqs) > 0 or self.flipped.num_rows > 0

    def other_days(self, files: Iterable[str], day: date) -> list[str]:
        """Of a source's history files, those of other days that can hold a flipped
        complaint's earlier versions (between its first and last seen day)."""
        if not self.flipped.num_rows:
            return []
        first = pc.min(self.flipped["first_seen_day"]).as_py().isoformat()
        last = pc.max(self.flipped["last_seen_day"]).as_py().isoformat()
        seen_days = ((f, layout.partition_values(f).get("day", "")) for f in files)
        return [f for f, seen in seen_days if first <= seen <= last and seen != day.isoformat()]

    def earlier_seqs(self, con: duckdb.DuckDBPyConnection, history: pa.Table) -> pa.Table:
        """``(version_seq, complaint_id)`` of one other day's history rows to withdraw."""
        con.register("_withdraw_h", history)
        con.register("_withdraw_m", self.flipped)
        try:
            return con.sql(
                f"""SELECT v.version_seq, v.complaint_id FROM _withdraw_h v
                JOIN _withdraw_m m USING (complaint_id) WHERE {_BEFORE}"""  # noqa: S608 - constants only
            ).to_arrow_table()
        finally:
            con.unregister("_withdraw_h")
            con.unregister("_withdraw_m")


def null_text_where(table: pa.Table, rows: pa.Array | pa.ChunkedArray) -> pa.Table:
    """``table`` (history or current rows) with the title and body null where ``rows`` is
    true."""
    for name in ("title", "body"):
        i = table.schema.get_field_index(name)
        column = table[name]
        nulls = pa.scalar(None, column.type)
        table = table.set_column(i, table.schema.field(i), pc.if_else(rows, nulls, column))
    return table


def null_text(history: pa.Table, seqs: pa.Array | pa.ChunkedArray) -> pa.Table:
    """History rows with the title and body of the given ``version_seq`` values nulled."""
    if isinstance(seqs, pa.ChunkedArray):
        seqs = seqs.combine_chunks()
    return null_text_where(
        history, pc.is_in(history["version_seq"], value_set=seqs.cast(pa.int32()))
    )


def files_holding(storage: Storage, files: Iterable[str], complaint_ids: pa.Array) -> Iterator[str]:
    """Of the given files, those with a row of one of the complaints, found from their
    ``complaint_id`` column alone."""
    for f in files:
        held = storage.read_parquet(f, columns=["complaint_id"])["complaint_id"]
        if pc.any(pc.is_in(held, value_set=complaint_ids)).as_py():
            yield f


def rewrite_history_days(
    storage: Storage,
    con: duckdb.DuckDBPyConnection,
    withdrawal: Withdrawal,
    files: Iterable[str],
) -> Iterator[tuple[str, pa.Table, pa.Array, int]]:
    """Each other day's history file holding text to withdraw, one at a time: its path, its
    new table, the complaint ids withdrawn there (for that day's raw file) and the versions
    withdrawn. A file without a flipped complaint is read for its ids only (``files_holding``)."""
    for f in files_holding(storage, files, withdrawal.flipped["complaint_id"].combine_chunks()):
        history = storage.read_parquet(f)
        rows = withdrawal.earlier_seqs(con, history)
        if rows.num_rows:
            yield (
                f,
                null_text(history, rows["version_seq"]),
                pc.unique(rows["complaint_id"].combine_chunks()),
                rows.num_rows,
            )


def history_marks(
    storage: Storage, con: duckdb.DuckDBPyConnection, files: Iterable[str]
) -> Withdrawal:
    """A ``Withdrawal`` of every complaint with a rahasia version in the given history files
    (each complaint's latest one as its mark), for a sweep over a source's whole history."""
    columns = ["complaint_id", "updated_at", "seen_day", "version_seq", "is_rahasia"]
    parts = []
    for f in files:
        t = storage.read_parquet(f, columns=columns)
        parts.append(t.filter(pc.fill_null(t["is_rahasia"], False)))
    marks = pa.table({"complaint_id": pa.array([], pa.string())})
    if parts:
        con.register("_withdraw_r", pa.concat_tables(parts))
        try:
            marks = con.sql(
                f"""SELECT complaint_id, max({_KEY.format(t="r")}) AS mark FROM _withdraw_r r
                GROUP BY complaint_id"""  # noqa: S608 - constants only
            ).to_arrow_table()
        finally:
            con.unregister("_withdraw_r")
    return Withdrawal(pa.array([], pa.int32()), pa.array([], pa.string()), marks)


_QUARANTINE_TARGETS = """SELECT h.complaint_id,
  least(min(CAST(h.submitted_at AS DATE)) - 1, {first_seen}) AS from_day
FROM new_h h {join} WHERE h.is_rahasia {not_yet} GROUP BY h.complaint_id"""


def quarantine_targets(con: duckdb.DuckDBPyConnection, has_existing: bool) -> pa.Table:
    """``(complaint_id, from_day)`` of the complaints whose quarantined rows of other days lose
    their text with this day: those with a rahasia version today and no rahasia current row
    (the flag turned on, or the complaint is new to current: its earlier rows may all have been
    quarantined). A quarantined row has no place in the merge's order, so every day from the
    day before the complaint was submitted (or first seen) on counts."""
    query = _QUARANTINE_TARGETS.format(
        first_seen="min(e.first_seen_day)" if has_existing else "NULL",
        join="LEFT JOIN existing e USING (complaint_id)" if has_existing else "",
        not_yet="AND NOT coalesce(e.is_rahasia, false)" if has_existing else "",
    )
    return con.sql(query).to_arrow_table()


def days_from(files: Iterable[str], first: date | None, day: date) -> list[str]:
    """Of a source's day files, those of days from ``first`` on (every day when None), other
    than ``day``."""
    after = first.isoformat() if first is not None else ""
    seen_days = ((f, layout.partition_values(f).get("day", "")) for f in files)
    return [f for f, seen in seen_days if seen >= after and seen != day.isoformat()]


_MARKED = """SELECT complaint_id FROM {table} WHERE is_rahasia
  AND complaint_id IN (SELECT complaint_id FROM _withdraw_q)"""


def marked(
    con: duckdb.DuckDBPyConnection, complaint_ids: pa.Array, current_view: str | None
) -> pa.Array:
    """Of ``complaint_ids``, those with a rahasia version in the merge's ``new_h`` or a rahasia
    current row in ``current_view`` (the source's current rows before the day, when it has any:
    a quarantined row's complaint often has no version that day, so no row in ``existing``)."""
    query = _MARKED.format(table="new_h")
    if current_view is not None:
        query += " UNION " + _MARKED.format(table=current_view)
    con.register("_withdraw_q", pa.table({"complaint_id": complaint_ids}))
    try:
        return pc.unique(con.sql(query).to_arrow_table()["complaint_id"].combine_chunks())
    finally:
        con.unregister("_withdraw_q")


def quarantined_without_text(
    table: pa.Table, complaint_ids: pa.Array, raw_text: RawText | None
) -> tuple[pa.Table, pa.Array] | None:
    """Quarantine rows of the given complaints without the text of their ``raw`` JSON (through
    ``raw_text``; without it, their whole ``raw`` is nulled), and the complaint ids of the rows
    that changed; None when none did."""
    hit = pc.fill_null(pc.is_in(table["complaint_id"], value_set=complaint_ids), False)
    hit = pc.and_(hit, pc.is_valid(table["raw"])).combine_chunks()
    if not pc.any(hit).as_py():
        return None
    # only the matching rows are parsed: a rejected day's quarantine holds every row it read
    old = table["raw"].filter(hit).to_pylist()
    new = [raw_text.json_without_text(t) if raw_text else None for t in old]
    if old == new:
        return None
    raw = pc.replace_with_mask(table["raw"].combine_chunks(), hit, pa.array(new, pa.string()))
    changed = pc.replace_with_mask(
        hit, hit, pa.array([a != b for a, b in zip(old, new, strict=True)], pa.bool_())
    )
    i = table.schema.get_field_index("raw")
    new_table = table.set_column(i, table.schema.field(i), raw)
    return new_table, table["complaint_id"].combine_chunks().filter(changed)


def rewrite_quarantine_days(
    storage: Storage, complaint_ids: pa.Array, raw_text: RawText | None, files: Iterable[str]
) -> Iterator[tuple[str, pa.Table, pa.Array]]:
    """Each quarantine file holding a row of the given complaints with text, one at a time: its
    path, its new table and the complaint ids of the rows withdrawn (one per row). A file
    without one is read for its ids only (``files_holding``)."""
    for f in files_holding(storage, files, complaint_ids):
        found = quarantined_without_text(storage.read_parquet(f), complaint_ids, raw_text)
        if found is not None:
            yield f, *found
