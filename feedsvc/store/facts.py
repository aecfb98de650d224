"""Facts about the store as a whole (`store_facts`), in the caller's connection: the
languages the items folder was read with (issue 15), the last digest period queued of each
frequency (issue 16)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from feedsvc.store.schema import store_facts


def fact(conn: Connection, name: str) -> str | None:
    return conn.execute(select(store_facts.c.value).where(store_facts.c.name == name)).scalar()


def set_fact(conn: Connection, name: str, value: str) -> None:
    conn.execute(delete(store_facts).where(store_facts.c.name == name))
    conn.execute(insert(store_facts).values(name=name, value=value))
