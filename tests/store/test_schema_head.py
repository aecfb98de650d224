"""schema_version.HEAD, the newest revision named without Alembic (issue 18 item 2: a store
opens without importing it when the schema is current), never drifts from the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from feedsvc.store import Store, schema_version
from feedsvc.store.schema_version import SchemaError
from tests.conftest import new_database_url


def test_head_is_the_newest_migration() -> None:
    assert schema_version.head() == schema_version.HEAD


def test_a_database_one_revision_behind_is_not_taken_for_current(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(schema_version.config())
    before = script.get_revision(schema_version.HEAD).down_revision
    url = new_database_url(tmp_path, "behind")
    (tmp_path / "var").mkdir(exist_ok=True)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(schema_version.config(conn), str(before))
    engine.dispose()
    with pytest.raises(SchemaError, match=f"at {before}, this feedsvc needs {schema_version.HEAD}"):
        Store.open(url, upgrade=False)
    Store.open(url).close()  # upgraded, then current
    Store.open(url, upgrade=False).close()
