"""The SQLite module SeeSay's one database is opened with, and sqlite-vec loaded into it.

History and the document index share a file, and the index's vectors live in a ``vec0``
table, so every connection needs the sqlite-vec extension. Python's own ``sqlite3`` is
built without extension loading on some systems (pyenv's and many distributions'); there
``pysqlite3`` (the same module over a recent SQLite that allows it) is used instead.
"""

from __future__ import annotations

import sqlite3 as _stdlib
from types import ModuleType
from typing import Any


def _module() -> ModuleType:
    probe = _stdlib.connect(":memory:")
    try:
        if hasattr(probe, "enable_load_extension"):
            return _stdlib
    finally:
        probe.close()
    from pysqlite3 import dbapi2

    return dbapi2


sqlite3: Any = _module()
Error: type[Exception] = sqlite3.Error
Connection = _stdlib.Connection  # for annotations: both modules' connections have its interface


def connect(target: str, **kwargs: Any) -> Any:
    """A connection with sqlite-vec loaded (``vec0`` tables, ``vec_distance_*``)."""
    import sqlite_vec

    conn = sqlite3.connect(target, **kwargs)
    conn.enable_load_extension(True)
    try:
        sqlite_vec.load(conn)
    finally:
        conn.enable_load_extension(False)
    return conn
