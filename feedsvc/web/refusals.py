"""Why a share was not taken, said in HTTP: sharing/ names the reason, web/ picks the status
(issue 13 item 3). The form and the JSON API answer with the same status for a reason.
"""

from __future__ import annotations

from feedsvc.sharing.desk import Reason, ShareRefused
from feedsvc.sharing.requests import Invalid
from feedsvc.web.asgi import Headers

REFUSED_STATUS: dict[Reason, int] = {
    Reason.BAD_TOKEN: 400,  # send the form again, with a fresh token
    Reason.UNKNOWN_RELEASE: 404,
    Reason.LIMITED: 429,  # RFC 6585 4, with Retry-After
    Reason.UNSENDABLE: 422,  # the request is fine; the release cannot be emailed
}
INVALID_STATUS: dict[Invalid, int] = {
    Invalid.MALFORMED: 400,
    Invalid.UNACCEPTABLE: 422,  # RFC 9110 15.5.21: understood, not processable
}


def retry_after(refused: ShareRefused) -> Headers:
    """Retry-After for a refusal that ends in time (a limit), nothing for any other."""
    if refused.reason is Reason.LIMITED:
        return [(b"retry-after", str(refused.retry_after).encode())]
    return []
