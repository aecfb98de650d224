"""Share-by-email links (RFC 6068): no server involved, so nothing for a spammer to abuse."""

from __future__ import annotations

_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"
# One string per byte value: RFC 3986 unreserved bytes stand for themselves, every other
# byte becomes %XX. The UTF-8 bytes, read as Latin-1 (one character a byte), are translated
# through it: urllib.parse.quote(safe='') done ~3 times faster (two on every release page).
_PERCENT = [chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)]


def percent_encode(text: str) -> str:
    return text.encode("utf-8").decode("latin-1").translate(_PERCENT)


def mailto_link(title: str, summary: str, url: str) -> str:
    """`mailto:?subject=<title>&body=<summary>%0D%0A%0D%0A<url>`.

    Every character outside RFC 3986's unreserved set is percent-encoded as UTF-8, so
    spaces become %20 and line breaks %0D%0A as RFC 6068 section 5 asks, and no header
    (To, Cc, Bcc) can be smuggled in through a title or summary.
    """
    subject = " ".join(title.split())
    body = " ".join(summary.split()) + "\r\n\r\n" + url
    return f"mailto:?subject={percent_encode(subject)}&body={percent_encode(body)}"
