"""One secret key, and what is signed or hashed with it: form tokens, unsubscribe links,
and the keyed hashes that stand for addresses and IPs in the database."""

from __future__ import annotations

import base64
import contextlib
import functools
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

from feedsvc.config import SECRET_KEY_ENV, Settings
from feedsvc.errors import ConfigError
from feedsvc.privacy import private_file, private_folder

KEY_MIN_BYTES = 32  # 256 bits: HMAC-SHA256 gains nothing from more; a short key is guessable
_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))' makes one"


def load_key(settings: Settings) -> bytes:
    """FEEDSVC_SECRET_KEY (every instance of a deployment sets the same), or a key made
    once and kept in server.secret_key_file (0600) for a single process.

    A key shorter than KEY_MIN_BYTES stops the start (issue 11: an empty key file was used
    as the key, and anyone could forge form tokens and unsubscribe links)."""
    value = os.environ.get(SECRET_KEY_ENV)
    if value is not None:
        key = value.strip().encode()
        if len(key) < KEY_MIN_BYTES:
            raise ConfigError(
                f"{SECRET_KEY_ENV} is {len(key)} bytes; the signing key must be at least "
                f"{KEY_MIN_BYTES}: {_MAKE_ONE}"
            )
        return key
    path = settings.server.secret_key_file
    key = _read_key(path)
    if key is None:
        key = _make_key(path)
    return key


def _read_key(path: Path) -> bytes | None:
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the signing key: {e.strerror}") from e
    if len(key) < KEY_MIN_BYTES:
        raise ConfigError(
            f"{path}: the signing key is {len(key)} bytes, at least {KEY_MIN_BYTES} are needed; "
            f"delete the file to have a new one made, or set {SECRET_KEY_ENV}"
        )
    private_file(path, create=False)  # a key others can read signs for them too
    return key


def _make_key(path: Path) -> bytes:
    """A new key, written whole to a file of its own and then linked into place: two
    processes starting at once end with one key (the second link fails and that process
    reads the first one's), and neither ever reads a half-written file."""
    private_folder(path.parent)
    key = secrets.token_urlsafe(48).encode()
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(staging, path)
        except FileExistsError:  # another process made it first: use its key
            found = _read_key(path)
            assert found is not None
            return found
    finally:
        staging.unlink(missing_ok=True)
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, purpose: str, data: bytes) -> bytes:
        # The purpose is part of what is signed: a token made for one use is no good for
        # another (an unsubscribe token is not a form token).
        # hmac.digest: the same MAC in one C call (issue 18: hmac.new was ~4% of a share).
        return hmac.digest(self._key, purpose.encode() + b"\0" + data, "sha256")

    def sign(self, purpose: str, payload: str) -> str:
        data = payload.encode()
        return f"{_b64(data)}.{_b64(self._mac(purpose, data)[:24])}"

    def unsign(self, purpose: str, token: str) -> str | None:
        """The payload of a token this key signed for `purpose`, or None."""
        head, dot, tail = token.partition(".")
        if not dot or len(token) > 2048:
            return None
        try:
            data, mac = _unb64(head), _unb64(tail)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(purpose, data)[:24]):
            return None
        try:
            return data.decode()
        except UnicodeDecodeError:
            return None

    def digest(self, purpose: str, value: str) -> str:
        """A keyed hash: equal values give equal hashes, and without the key nobody can
        tell which value it was (a list of addresses is easy to hash and compare)."""
        return self._mac(purpose, value.encode()).hex()


def address_hash(signer: Signer, address: str) -> str:
    return signer.digest("address", canonical_address(address))


# Providers known to deliver a.b.c@ to abc@ (and googlemail.com is gmail.com).
_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_address(address: str) -> str:
    """The mailbox an address reaches, as far as limits and the unsubscribe list are
    concerned: case folded, a '+tag' taken off, dots taken out where the provider ignores
    them, an international domain in its ASCII (Punycode) form. victim+1@ is victim@
    (issue 11: variants got past the per-recipient limit and the suppression list)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().lower()
    domain = domain.rstrip(".").lower()
    if not domain.isascii():
        with contextlib.suppress(UnicodeError):  # not a name IDNA takes: kept, folded
            domain = domain.encode("idna").decode("ascii")
    local = local.lower()
    untagged = local.split("+", 1)[0]
    if untagged:  # "+x@" has no tag to take off: it is its own address
        local = untagged
    if domain in _DOTLESS:
        local = local.replace(".", "") or local
        domain = _DOTLESS[domain]
    return f"{local}@{domain}"


def client_key(ip: str) -> str:
    """Whom a per-client limit counts: an IPv4 address, or an IPv6 client's /64 (one line
    to one home or phone is a whole /64: counting single IPv6 addresses counts nothing)."""
    return _within(ip, 32, 64)


def network_of(ip: str) -> str:
    """The network a form token is bound to: an IPv4 client's /24, an IPv6 client's /64.
    Wide enough that a reader whose address changes within their provider's pool keeps
    their form; narrow enough that a token harvested elsewhere is no good here."""
    return _within(ip, 24, 64)


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address, an IPv4-mapped IPv6 one (`::ffff:192.0.2.1`, as a dual-stack socket
    reports IPv4 peers) as the IPv4 address it is; None for text that is no address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=4096)  # a client asks many times: parse its address once
def _within(ip: str, v4_prefix: int, v6_prefix: int) -> str:
    """The network of that prefix holding `ip` (an IPv4-mapped IPv6 address counts as the
    IPv4 one); a bare address for a full-length prefix; the text as it is if no address."""
    address = parse_ip(ip)
    if address is None:
        return ip
    prefix = v4_prefix if address.version == 4 else v6_prefix
    if prefix == address.max_prefixlen:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def ip_hash(signer: Signer, ip: str) -> str:
    return signer.digest("ip", client_key(ip))


def new_id() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits
