"""The SQLAlchemy dialect module of a connection, imported when first asked for.

`sqlalchemy.dialects.postgresql` costs ~20 ms to import (its catalog and five drivers'
modules): a tenth of every command's imports on SQLite, which never needs it (issue 18:
the second build's whole command, process start included, is what is measured).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from sqlalchemy.types import TypeEngine


def dialect_module(name: str) -> ModuleType:
    """sqlalchemy.dialects.postgresql for "postgresql", else sqlalchemy.dialects.sqlite
    (the two the store runs on)."""
    which = "postgresql" if name == "postgresql" else "sqlite"
    return importlib.import_module(f"sqlalchemy.dialects.{which}")


def of(conn: Any) -> ModuleType:
    """The dialect module of a Connection or Engine."""
    return dialect_module(conn.dialect.name)


class TSVector(TypeEngine[Any]):
    """PostgreSQL's TSVECTOR as a column type, compiled by that dialect's own
    visit_TSVECTOR, without importing the dialect where the store is SQLite."""

    __visit_name__ = "TSVECTOR"
    cache_ok = True
