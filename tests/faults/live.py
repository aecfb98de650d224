"""Helpers the fault tests share: talking to a live `feedsvc serve`, and its processes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tests.web.conftest import Server, wait_for

# A share through the JSON API may wait on the database (a locked SQLite file waits up to
# its busy_timeout of 5 s): the client waits longer than that.
SHARE_TIMEOUT = 15.0

# What a share needs to be accepted at once, as often as a test likes.
SHARE_RULES = {
    "min_fill_seconds": 0,
    "per_ip_per_hour": 10_000,
    "per_recipient_per_day": 10_000,
    "per_sender_per_day": 10_000,
    "global_per_hour": 10_000,
}


def today() -> str:
    """Today in the live servers' time zone, as a dateline says it: a release dated today
    is new enough to be announced."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%B %d, %Y")


def visible(srv: Server, release_id: str, timeout: float = 10.0) -> None:
    wait_for(
        lambda: srv.get(f"/releases/{release_id}/").status_code == 200,
        timeout,
        what=f"{release_id} published",
    )


def post_share(srv: Server, release_id: str, to: list[str], **fields: Any) -> requests.Response:
    """A share as the JSON API documents it: a form token, then the POST."""
    r = srv.http.get(
        srv.base + "/api/shares/token", params={"release": release_id}, timeout=SHARE_TIMEOUT
    )
    assert r.status_code == 200, (r.status_code, r.text)
    body = {"release": release_id, "to": to, "token": r.json()["token"], **fields}
    return srv.http.post(
        srv.base + "/api/shares",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        timeout=SHARE_TIMEOUT,
    )


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc (children of each of its threads)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = {int(n) for n in children.read_text().split()}
            except OSError:  # the thread or the process just ended
                continue
            todo += kids - found
            found |= kids
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (a zombie waiting for its parent to reap it is not)."""
    running = set()
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            running.add(pid)
    return running


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()
