"""Connectors: read one source for one source-day window as string-valued Arrow batches.

```python
window = Window.for_day(day, source.timezone, cursor)
conn = open_connector(source, settings)
for batch in conn.read(window):   # pyarrow.Table, every column a string
    ...
conn.max_updated, conn.notes, conn.describe()
```

A source is any object with ``.id``, ``.timezone`` and ``.connector`` (``.kind``,
``.conn_id``, ``.options``), as the registry's ``Source`` model has.
"""

from __future__ import annotations

from typing import Any

from complaints.connectors.base import Connector, SourceError, Window

__all__ = ["Connector", "SourceError", "Window", "open_connector", "KINDS"]

KINDS = ("http", "sql", "file")


def open_connector(source: Any, settings: Any) -> Connector:
    """The connector for ``source.connector.kind``; a bad definition raises SourceError."""
    kind = getattr(getattr(source, "connector", None), "kind", None)
    if kind == "http":
        from complaints.connectors.http import HttpConnector

        return HttpConnector(source, settings)
    if kind == "sql":
        from complaints.connectors.sql import SqlConnector

        return SqlConnector(source, settings)
    if kind == "file":
        from complaints.connectors.files import FileConnector

        return FileConnector(source, settings)
    raise SourceError(
        getattr(source, "id", "?"),
        f"unknown connector kind {kind!r}; expected one of {', '.join(KINDS)}",
    )
