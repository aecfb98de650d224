"""Share-by-email links (RFC 6068): no server involved, so nothing for a spammer to abuse."""

from __future__ import annotations

from urllib.parse import quote


def mailto_link(title: str, summary: str, url: str) -> str:
    """`mailto:?subject=<title>&body=<summary>%0D%0A%0D%0A<url>`.

    Every character outside RFC 3986's unreserved set is percent-encoded as UTF-8, so
    spaces become %20 and line breaks %0D%0A as RFC 6068 section 5 asks, and no header
    (To, Cc, Bcc) can be smuggled in through a title or summary.
    """
    subject = " ".join(title.split())
    body = " ".join(summary.split()) + "\r\n\r\n" + url
    return f"mailto:?subject={quote(subject, safe='')}&body={quote(body, safe='')}"
