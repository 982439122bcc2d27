"""Columnar snapshots of the store's tables, so a million deals open in a second.

SQLite stays the one source of truth. Reading a million rows out of it through
Python costs tens of seconds, so each table is also kept as an Arrow IPC file
beside the database (``.<db name>.cache/<table>.arrow``), tagged with the store's
id and the table's write generation. A snapshot whose tag does not match the
database is ignored and rebuilt: a crash between a commit and a snapshot write, a
concurrent writer or a deleted database can only make the cache stale, never wrong.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

_TAG = b"dealgraph.tag"


def _dir(db: Path) -> Path:
    return db.parent / f".{db.name}.cache"


def load(db: Path, table: str, tag: str | None) -> pd.DataFrame | None:
    """The snapshot of ``table`` if it carries ``tag``, else None."""
    if tag is None:
        return None
    path = _dir(db) / f"{table}.arrow"
    try:
        with pa.memory_map(str(path)) as src:
            reader = ipc.open_file(src)
            if (reader.schema.metadata or {}).get(_TAG) != tag.encode():
                return None
            t = reader.read_all()
    except (OSError, pa.ArrowInvalid):
        return None
    return t.to_pandas(types_mapper=lambda typ: pd.StringDtype("pyarrow") if typ == pa.string() else None)


def save(db: Path, table: str, tag: str | None, df: pd.DataFrame) -> None:
    """Write the snapshot atomically; a failure (read-only directory, full disk) only
    costs speed later, so it is not an error."""
    if tag is None:
        return
    try:
        d = _dir(db)
        d.mkdir(exist_ok=True)
        t = pa.Table.from_pandas(df, preserve_index=False)
        t = t.replace_schema_metadata({_TAG: tag.encode()})
        fd, tmp = tempfile.mkstemp(prefix=f".{table}-", suffix=".arrow", dir=d)
        with os.fdopen(fd, "wb") as f, ipc.new_file(f, t.schema) as w:
            w.write_table(t)
        os.replace(tmp, d / f"{table}.arrow")
    except OSError:
        pass
