"""What the warehouse accepts as a table's rows: a pyarrow Table or a pyarrow Dataset."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as ds

Rows = pa.Table | ds.Dataset


def as_table(rows: Rows, schema: pa.Schema | None = None) -> pa.Table:
    """The rows as one Table; an empty Dataset without the columns gives ``schema``'s."""
    if isinstance(rows, ds.Dataset):
        lacks = schema is not None and not set(schema.names) <= set(rows.schema.names)
        if lacks and rows.count_rows() == 0:
            return schema.empty_table()
        return rows.to_table()
    return rows
