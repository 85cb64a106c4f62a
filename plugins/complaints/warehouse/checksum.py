"""A content fingerprint of the whole warehouse: equal fingerprints mean equal tables.

Used to prove that a rerun or a recovered crash left the warehouse exactly as expected. It hashes
each table's file paths and the sorted rows of each file, so it does not depend on Parquet's
byte layout.
"""

from __future__ import annotations

import hashlib

from complaints.warehouse import catalog
from complaints.warehouse.storage import Storage


def table_fingerprint(storage: Storage, table: str) -> str:
    digest = hashlib.sha256()
    for rel in catalog.parquet_files(storage, table):
        data = storage.read_parquet(rel)
        digest.update(rel.encode())
        digest.update(repr(data.schema).encode())
        for row in sorted(repr(sorted(r.items())) for r in data.to_pylist()):
            digest.update(row.encode())
    return digest.hexdigest()


def fingerprint(storage: Storage) -> dict[str, str]:
    """``{table: sha256}`` over every table in the warehouse."""
    return {t: table_fingerprint(storage, t) for t in catalog.table_names(storage)}
