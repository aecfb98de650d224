"""Why a share was not taken, said in HTTP: sharing/ names the reason, web/ picks the status
(issue 13 item 3). The form and the JSON API answer with the same status for a reason.
"""

from __future__ import annotations

from feedsvc.i18n import N_
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


# What the form's pages say (a page says them in its language: i18n.Message).
AGAIN = N_("To keep this form from being used for spam, please check it and press Send again.")
LIMITED = N_("Too many suggestions have been sent from here for now. Please try again later.")
UNAVAILABLE_API = "the suggestion could not be stored just now: please try again in a moment"
UNAVAILABLE = N_("The suggestion could not be stored just now: please try again in a moment.")
NO_SUCH_RELEASE = N_("There is no such release.")
NOT_FROM_PAGE = N_("Send the form from its page.")
TOO_MUCH_FORM = N_("That is more than a form holds.")
TOO_MUCH = N_("Too much.")
GARBLED = N_("The form arrived garbled.")
NO_LANGUAGE = N_("not a language of this site")
