"""Issue 18 made the MAC one C call (hmac.digest): every token and keyed hash must stay the
bytes it was, or links in emails already sent and hashes already stored stop matching."""

from __future__ import annotations

import base64
import hashlib
import hmac

from feedsvc.sharing.keys import Signer, address_hash

KEY = b"k" * 48


def before(purpose: str, data: bytes) -> bytes:
    """The MAC as feedsvc computed it before issue 18."""
    return hmac.new(KEY, purpose.encode() + b"\0" + data, hashlib.sha256).digest()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tokens_and_hashes_are_the_bytes_they_were() -> None:
    signer = Signer(KEY)
    payload = "news|1796300000000|0123456789abcdef|net"
    token = signer.sign("share", payload)
    assert token == f"{b64(payload.encode())}.{b64(before('share', payload.encode())[:24])}"
    assert signer.unsign("share", token) == payload
    assert signer.digest("ip", "192.0.2.1") == before("ip", b"192.0.2.1").hex()
    expected = before("address", b"friend@example.org").hex()
    assert address_hash(signer, "Friend+x@Example.org") == expected
