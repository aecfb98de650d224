"""The access log's pieces (issue 11, 12): what of a client a line may show, escaped so
that nothing a client sends can end a line or add a field."""

from __future__ import annotations

import ipaddress
import json
import re

_PLAIN = re.compile(r"[!#-\[\]-~]*")  # printable ASCII but '"' and '\\': no JSON escaping
MAX_LOGGED_AGENT_CHARS = 256  # a User-Agent is the client's to write: a line stays a line


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
