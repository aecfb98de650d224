"""One secret key, and what is signed or hashed with it: form tokens, unsubscribe links,
and the keyed hashes that stand for addresses and IPs in the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from feedsvc.config import SECRET_KEY_ENV, Settings
from feedsvc.errors import ConfigError


def load_key(settings: Settings) -> bytes:
    """FEEDSVC_SECRET_KEY (every instance of a deployment sets the same), or a key made
    once and kept in server.secret_key_file (0600) for a single process."""
    value = os.environ.get(SECRET_KEY_ENV)
    if value is not None:
        if len(value) < 32:
            raise ConfigError(f"{SECRET_KEY_ENV} must be at least 32 characters")
        return value.encode()
    path = settings.server.secret_key_file
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
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
        return hmac.new(self._key, purpose.encode() + b"\0" + data, hashlib.sha256).digest()

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
    return signer.digest("address", address.strip().lower())


def ip_hash(signer: Signer, ip: str) -> str:
    return signer.digest("ip", ip)


def new_id() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits
