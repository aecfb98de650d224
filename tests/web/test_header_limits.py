"""Header floods and slow clients against a real `feedsvc serve` (issue 11, item 6): a header
block over 16 KiB is refused having read little of it, one not complete within 10 s of its
start is closed, and neither slows /feed.xml for anyone else."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import shutil
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from feedsvc.web.protocol import HEAD_SECONDS, MAX_HEAD_BYTES
from tests.conftest import SEED
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

FLOOD_BYTES = 200 * 1024 * 1024  # one header line
CHUNK = 1024 * 1024
# What the client may get into the connection before it is refused: what the server read
# (MAX_HEAD_BYTES and the rest of one read) plus what the two kernels' socket buffers hold.
MAX_ACCEPTED = 8 * 1024 * 1024
MAX_SERVER_READ = 1024 * 1024  # the server's read() calls, all files and sockets, meanwhile
MAX_FLOOD_CPU = 1.0  # seconds
CLOSE_SLACK = 2.0  # seconds after HEAD_SECONDS that a slow connection may still be open
CLK_TCK = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("limits"))
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(ready=lambda s: wait_for(lambda: s.get("/feed.xml").status_code == 200, 10))
    yield srv
    assert srv.stop() in CLEAN_EXIT


# -- the server process, from /proc ------------------------------------------------------------


def cpu_seconds(server: Server) -> float:
    assert server.proc is not None
    stat = Path(f"/proc/{server.proc.pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state is field 3
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def bytes_read(server: Server) -> int:
    assert server.proc is not None
    io = Path(f"/proc/{server.proc.pid}/io").read_text()
    return int(io.split("rchar:")[1].split()[0])


# -- clients -------------------------------------------------------------------------------


def connect(server: Server, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def answer(sock: socket.socket) -> int | None:
    """The status of what the server sent before it closed; None: closed without a word."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else None


def flood(
    server: Server, give_up: int = MAX_ACCEPTED, stop: threading.Event | None = None
) -> tuple[int, int | None]:
    """A request whose one header line is FLOOD_BYTES long, sent until the server closes:
    (bytes the connection took, the status answered). Gives up once more than `give_up`
    bytes went in or `stop` is set, or when the server neither reads nor closes for 5 s."""
    chunk = b"a" * CHUNK
    sock = connect(server)
    accepted = 0
    try:
        accepted += sock.send(b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Flood: ")
        while accepted < FLOOD_BYTES:
            if accepted > give_up or (stop is not None and stop.is_set()):
                sock.close()
                return accepted, None
            accepted += sock.send(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    except TimeoutError:
        sock.close()
        return accepted, None
    return accepted, answer(sock)


def head_of(size: int) -> bytes:
    """A GET /feed.xml whose header block (the empty line included) is exactly `size` bytes,
    in fields of about 1 KiB: within the app's own limits on one field and on their number."""
    head = b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    left, n = size - len(head) - 2, 0
    while left:
        line = 1000 if left >= 1020 else left
        name = b"X-Pad-%02d: " % n
        head += name + b"v" * (line - len(name) - 2) + b"\r\n"
        left, n = left - line, n + 1
    head += b"\r\n"
    assert len(head) == size
    return head


def send_in_pieces(sock: socket.socket, data: bytes, size: int = 1024) -> None:
    for start in range(0, len(data), size):
        sock.sendall(data[start : start + size])
        time.sleep(0.005)  # each piece its own read on the server


def until_closed(sock: socket.socket, trickle: bytes, started: float, limit: float) -> float | None:
    """Send `trickle` a byte a second until the server closes: seconds from `started` to the
    close, or None if still open after `limit` seconds. A 408 on the way is fine."""
    sock.settimeout(1.0)
    for sent in itertools.count():
        if time.monotonic() - started > limit:
            sock.close()
            return None
        try:
            if trickle:
                sock.send(trickle[sent % len(trickle) :][:1])
            while sock.recv(4096):  # an answer (408): read on to the close
                pass
            break
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
    sock.close()
    return time.monotonic() - started


def keep_alive_then(server: Server, trickle: bytes) -> Callable[[], float | None]:
    """One whole request and its answer, then `trickle` a byte a second on the same
    connection: seconds from the first byte of the trickle to the close."""

    def run() -> float | None:
        sock = connect(server)
        sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), head
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
        return until_closed(sock, trickle, time.monotonic(), HEAD_SECONDS + 5)

    return run


def slow_from_the_start(server: Server, first: bytes, trickle: bytes) -> Callable[[], float | None]:
    def run() -> float | None:
        started = time.monotonic()
        sock = connect(server)
        if first:
            sock.sendall(first)
        return until_closed(sock, trickle, started, HEAD_SECONDS + 5)

    return run


# -- a flood -------------------------------------------------------------------------------------


def test_a_200_mb_header_line_is_refused_having_read_little_of_it(server: Server) -> None:
    cpu, read = cpu_seconds(server), bytes_read(server)
    accepted, status = flood(server)
    time.sleep(0.5)  # let whatever the server still had in hand show in its CPU time
    cpu, read = cpu_seconds(server) - cpu, bytes_read(server) - read
    print(f"\nflood: {accepted:,} B sent, server read {read:,} B and used {cpu:.2f} s CPU")
    assert accepted <= MAX_ACCEPTED, f"{accepted:,} bytes sent and the server still reading"
    assert status in (431, None)
    assert read < MAX_SERVER_READ, f"server read {read:,} bytes"
    assert cpu < MAX_FLOOD_CPU, f"server spent {cpu:.2f} s CPU"
    assert server.get("/feed.xml").status_code == 200


@pytest.mark.parametrize("in_pieces", [False, True], ids=["in one go", "in 1 KiB pieces"])
@pytest.mark.parametrize(
    ("size", "status"),
    [(15 * 1024, 200), (MAX_HEAD_BYTES, 200), (MAX_HEAD_BYTES + 1, 431), (20 * 1024, 431)],
    ids=["15 KiB", "16 KiB", "16 KiB + 1", "20 KiB"],
)
def test_a_header_block_over_16_kib_is_refused(
    server: Server, size: int, status: int, in_pieces: bool
) -> None:
    sock = connect(server)
    try:
        if in_pieces:
            send_in_pieces(sock, head_of(size))
        else:
            sock.sendall(head_of(size))
    except (BrokenPipeError, ConnectionResetError):
        assert status == 431  # refused before the client was through
    got = answer(sock)
    assert got == status or (status == 431 and got is None)


def test_pipelined_requests_split_anywhere_are_served(server: Server) -> None:
    """The count restarts with each request: two 15 KiB header blocks back to back, the
    second begun in the same read as the first ended, are both served."""
    first, second = head_of(15 * 1024), head_of(15 * 1024)
    first = first.replace(b"Connection: close", b"Connection: keep-alive")
    sock = connect(server)
    data = first + second
    send_in_pieces(sock, data[: len(first) + 100], size=len(first) + 100)
    send_in_pieces(sock, data[len(first) + 100 :], size=4000)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 2, received[:200]


# -- slow clients --------------------------------------------------------------------------------


def test_a_header_block_not_complete_within_10_s_is_closed(server: Server) -> None:
    at_head_seconds = HEAD_SECONDS - 0.5
    slow = {  # what the client does: (how, closed no sooner than)
        "a byte a second after the first header": (
            slow_from_the_start(server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: a"),
            at_head_seconds,
        ),
        "a byte a second from the start": (
            slow_from_the_start(server, b"", b"GET / HTTP/1.1\r\n"),
            at_head_seconds,
        ),
        "nothing": (slow_from_the_start(server, b"", b""), at_head_seconds),
        "empty lines, a byte a second": (
            slow_from_the_start(server, b"", b"\r\n"),
            at_head_seconds,
        ),
        "a byte a second after a whole request": (
            keep_alive_then(server, b"GET / HTTP/1.1\r\n"),
            at_head_seconds,
        ),
        # Idle between requests, empty lines or not: uvicorn's keep-alive timeout (5 s).
        "empty lines, a byte a second, after a whole request": (
            keep_alive_then(server, b"\r\n"),
            0,
        ),
    }
    with ThreadPoolExecutor(len(slow)) as pool:
        closed = dict(zip(slow, pool.map(lambda how: how[0](), slow.values()), strict=True))
    for what, seconds in closed.items():
        assert seconds is not None, f"{what}: still open after {HEAD_SECONDS + 5} s"
        assert slow[what][1] < seconds < HEAD_SECONDS + CLOSE_SLACK, (what, seconds)


# -- everyone else ---------------------------------------------------------------------------


def test_floods_and_slow_clients_do_not_slow_the_feed_for_others(server: Server) -> None:
    stop = threading.Event()
    floods: list[tuple[int, int | None]] = []

    def keep_flooding() -> None:
        while not stop.is_set():
            floods.append(flood(server, FLOOD_BYTES, stop))

    def keep_trickling(socks: list[socket.socket]) -> None:
        for n in range(10):
            for sock in socks:
                if stop.wait(0.05):
                    return
                with contextlib.suppress(OSError):  # closed by the server: fine too
                    sock.send(b"X-Slow-%d: %d\r\n" % (n, n))

    slow = [connect(server) for _ in range(20)]
    for sock in slow:
        sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    workers = [threading.Thread(target=keep_flooding) for _ in range(2)]
    workers.append(threading.Thread(target=keep_trickling, args=(slow,)))
    cpu = cpu_seconds(server)
    for worker in workers:
        worker.start()
    reader = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    latencies = []
    try:
        started = time.monotonic()
        while time.monotonic() - started < 4:
            t0 = time.perf_counter()
            reader.request("GET", "/feed.xml")
            response = reader.getresponse()
            response.read()
            latencies.append(time.perf_counter() - t0)
            assert response.status == 200
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(server) - cpu
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        reader.close()
        for sock in slow:
            sock.close()
    median, worst = statistics.median(latencies), max(latencies)
    print(
        f"\n{len(floods)} floods, {len(latencies)} /feed.xml: median {median * 1000:.1f} ms, "
        f"max {worst * 1000:.1f} ms; server CPU {cpu:.2f} s in {elapsed:.1f} s"
    )
    assert len(floods) >= 2 and max(accepted for accepted, _ in floods) <= MAX_ACCEPTED
    assert median < 0.1, f"median {median * 1000:.0f} ms"
    assert worst < 1.0, f"max {worst * 1000:.0f} ms"
