"""SIGKILL a dispatcher in the middle of an SMTP batch and run it again: every email is
delivered, and only the one in flight can arrive twice, with the same Message-ID."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

from feedsvc.model import Outgoing
from feedsvc.store import Store
from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import new_database_url
from tests.web.conftest import wait_for


class SlowRecorder(Recorder):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.03)
        return await super().handle_DATA(server, session, envelope)


def test_sigkill_mid_batch_then_restart_delivers_every_email(tmp_path: Path) -> None:
    total = 30
    handler = SlowRecorder()
    url = new_database_url(tmp_path)
    with smtp_server(handler) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            f"""
[site]
id_authority = "press.example.org"

[database]
url = "{url}"

[mail]
transport = "smtp"
smtp_host = "127.0.0.1"
smtp_port = {server.port}
smtp_security = "none"

[outbox]
lease_seconds = 1
"""
        )
        store = Store.open(url)
        try:
            now = time.time()
            import datetime as dt

            store.outbox.enqueue(
                [
                    Outgoing(
                        "email",
                        f"friend{n}@example.org",
                        {"to": f"friend{n}@example.org", "subject": f"R{n}", "text": "Hi"},
                        f"share {n}",
                    )
                    for n in range(total)
                ],
                dt.datetime.fromtimestamp(now, dt.UTC),
            )
        finally:
            store.close()
        command = [sys.executable, "-m", "feedsvc", "outbox", "dispatch", "--config", str(config)]
        first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL)
        wait_for(lambda: len(handler.received) >= 8, 10, what="first emails")
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_after = len(handler.received)
        assert killed_after < total, "the batch ended before the kill: nothing was tested"
        time.sleep(1.1)  # the dead dispatcher's lease runs out
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    store = Store.open(url)
    try:
        assert store.outbox.counts() == {("email", "delivered"): total}
    finally:
        store.close()
    ids = [r.message["Message-ID"] for r in handler.received]
    assert {r.rcpt_tos[0] for r in handler.received} == {
        f"friend{n}@example.org" for n in range(total)
    }
    assert len(set(ids)) == total
    # Each of the two SMTP lanes has at most one message in flight.
    assert len(ids) - total <= 2
