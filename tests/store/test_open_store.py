"""One way to open a store from settings (issue 13): `with open_store(settings) as store:`
closes it however the block ends, and database.auto_upgrade decides about the schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import Settings, database_url, settings_from_dict
from feedsvc.store import open_store
from feedsvc.store.connector import StoreClosed
from feedsvc.store.schema_version import SchemaError
from tests.conftest import TEST_DATABASE, new_database_url


def settings_for(root: Path, **database: object) -> Settings:
    return settings_from_dict({"database": {"url": new_database_url(root), **database}}, root=root)


def test_a_failing_block_still_closes_the_store(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    wal = Path(database_url(settings).removeprefix("sqlite:///") + "-wal")
    with pytest.raises(RuntimeError, match="the block failed"), open_store(settings) as store:
        assert store.releases.generation() == 0
        assert store.engine.pool.checkedin() == 1  # the store holds a connection...
        if TEST_DATABASE != "postgresql":
            assert wal.exists()
        raise RuntimeError("the block failed")
    assert store.engine.pool.checkedin() == 0  # ...and holds none once the block failed
    if TEST_DATABASE != "postgresql":
        assert not wal.exists()  # the last connection closed: SQLite checkpointed its WAL


def test_auto_upgrade_off_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, auto_upgrade=False)
    with pytest.raises(SchemaError):
        open_store(settings)
    with open_store(settings, upgrade=True) as store:  # as `feedsvc build`'s parent does
        assert store.releases.visible_count() == 0
    open_store(settings).close()  # now up to date: auto_upgrade off opens it


def test_a_closed_store_refuses_work_instead_of_reconnecting(tmp_path: Path) -> None:
    """What reaches a store after its close is a defect (a job begun after the service
    closed): it fails at once, naming the cause, rather than opening a connection that
    outlives the service. A transaction running at the close ends as it would have."""
    store = open_store(settings_for(tmp_path))
    store.releases.generation()
    with store.engine.connect() as running:
        store.close()
        store.close()  # a second close does nothing
        assert running.exec_driver_sql("SELECT 1").scalar() == 1
    with pytest.raises(StoreClosed, match="the store was closed"):
        store.releases.generation()
    assert store.engine.pool.checkedout() == 0
