"""The access log (issue 11, 12, 18): what of a client a line may show, escaped so that
nothing a client sends can end a line or add a field; and the lines themselves, made a
batch at a time from remembered pieces, so that a request costs the event loop no
formatting and no write of its own (issue 18 item 3)."""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Iterable
from typing import TextIO

_PLAIN = re.compile(r"[!#-\[\]-~]*")  # printable ASCII but '"' and '\\': no JSON escaping
MAX_LOGGED_AGENT_CHARS = 256  # a User-Agent is the client's to write: a line stays a line
MAX_REMEMBERED = 4096  # pieces of lines kept in each cache; more starts it over
MAX_REMEMBERED_CHARS = 512  # a longer path or User-Agent is escaped each time, not kept
# ".000Z" to ".999Z": the milliseconds of a line's time, formatted once.
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))

# What a request leaves behind (web/app.py): (started, ended, client address, method,
# path, status, bytes, User-Agent, route, Sec-Fetch-Dest). Times in POSIX seconds.
Request = tuple[float, float, str, str, str, int, int, bytes | None, str, bytes | None]


def anonymise(ip: str) -> str:
    """Enough of an address for an access log, not enough to name a person: the /24 of an
    IPv4 address, the /48 of an IPv6 one."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "-"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def logged_agent(agent: bytes | None) -> str:
    """A User-Agent as a JSON value for a log line: null, or a string of printable ASCII
    (quotes, backslashes, control characters, line separators and everything non-ASCII
    escaped), cut at MAX_LOGGED_AGENT_CHARS: no User-Agent can end a line or add a field."""
    if agent is None:
        return "null"
    # A character is at most 4 bytes: an 8 KiB field is not decoded whole.
    text = agent[: 4 * MAX_LOGGED_AGENT_CHARS].decode("utf-8", "replace")
    text = text[:MAX_LOGGED_AGENT_CHARS]
    return json.dumps(text, ensure_ascii=True)


def log_middle(method: str, path: str) -> str:
    """The part of an access-log line between the time and the status, JSON-escaped."""
    quoted = f'"{path}"' if _PLAIN.fullmatch(path) else json.dumps(path, ensure_ascii=False)
    return f'","method":"{method}","path":{quoted},"status":'


class Shortened:
    """anonymise, remembered for MAX_REMEMBERED addresses (an address is at most 45
    characters, so this stays small whoever asks)."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, address: str) -> str:
        short = self._known.get(address)
        if short is None:
            short = anonymise(address) if address else "-"
            if len(self._known) >= MAX_REMEMBERED:
                self._known.clear()
            self._known[address] = short
        return short


class AccessLog:
    """One line a request, written a batch at a time to `out` (JSON, or text for a
    terminal). A line is its second's time stamp, its milliseconds, the remembered
    (method, path, status, bytes) piece, the microseconds it took and the remembered
    (client, User-Agent) piece: a dict lookup each, no escaping, no json.dumps."""

    def __init__(self, out: TextIO, shortened: Shortened | None = None) -> None:
        self.out = out
        self.json = not out.isatty()
        self.short = shortened or Shortened()
        self._second = -1
        self._stamp = ""
        # (method, path, status, bytes, client address, User-Agent) -> (head, tail)
        self._pieces: dict[tuple[str, str, int, int, str, bytes | None], tuple[str, str]] = {}

    def write(self, requests: Iterable[Request]) -> None:
        """The lines of `requests`, handed to `out` in one write."""
        if not self.json:
            self.out.write("".join(self._text(r) for r in requests))
            return
        lines = []
        append = lines.append
        pieces, milli, time_piece = self._pieces, -1, ""
        for started, ended, address, method, path, status, size, agent, _, _ in requests:
            if int(ended * 1000) != milli:  # many requests share a millisecond under load
                milli = int(ended * 1000)
                time_piece = self._time_piece(milli)
            head, tail = pieces.get((method, path, status, size, address, agent)) or self._piece(
                method, path, status, size, address, agent
            )
            append(f"{time_piece}{head}{int((ended - started) * 1_000_000)}{tail}")
        self.out.write("".join(lines))

    def flush(self) -> None:
        self.out.flush()

    def _time_piece(self, milli: int) -> str:
        """'{"time":"2026-12-06T21:35:13.123Z' for a moment in milliseconds."""
        second, ms = divmod(milli, 1000)
        if second != self._second:
            self._second = second
            self._stamp = '{"time":"' + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return self._stamp + _MILLIS[ms]

    def _piece(
        self, method: str, path: str, status: int, size: int, address: str, agent: bytes | None
    ) -> tuple[str, str]:
        """The line before its microseconds, after its time, and after its microseconds:
        escaped once, remembered unless the path or User-Agent is long."""
        head = f'{log_middle(method, path)}{status},"bytes":{size},"us":'
        tail = f',"client":"{self.short(address)}","ua":{logged_agent(agent)}}}\n'
        if len(path) <= MAX_REMEMBERED_CHARS and (
            agent is None or len(agent) <= MAX_REMEMBERED_CHARS
        ):
            if len(self._pieces) >= MAX_REMEMBERED:
                self._pieces.clear()  # a flood of made-up paths or agents: start over, bounded
            self._pieces[(method, path, status, size, address, agent)] = head, tail
        return head, tail

    def _text(self, request: Request) -> str:
        """A line for people on a terminal: not escaped but the User-Agent, as before."""
        started, ended, address, method, path, status, size, agent, _, _ = request
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ended)))
        micros = int((ended - started) * 1_000_000)
        ua = "-" if agent is None else logged_agent(agent)
        return f"{stamp}Z {self.short(address)} {method} {path} {status} {size} {micros}us {ua}\n"
