"""What the share desk answers: a receipt, or a refusal in the desk's own terms; web/ says
it in HTTP (issue 13)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from feedsvc.i18n import N_
from feedsvc.store.shares import Refusal


@dataclass(frozen=True)
class Receipt:
    id: str
    release_id: str


class Reason(enum.Enum):
    """Why the desk refused a share, in its own terms: web/ says it in HTTP (issue 13)."""

    BAD_TOKEN = "bad token"  # forged, expired, spent, too soon, from elsewhere: all alike
    UNKNOWN_RELEASE = "unknown release"  # no such id, or not (or no longer) public
    LIMITED = "limited"  # a limit is reached: try again after retry_after seconds
    UNSENDABLE = "unsendable"  # the release cannot be carried by an email


class ShareRefused(Exception):
    """Not accepted: why, what to tell the sharer, when to try again, the field at fault."""

    def __init__(
        self, reason: Reason, message: str, retry_after: int = 0, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after
        self.field = field


# In English as str (the JSON API, logs); a page says them in its language (i18n.Message).
EXPIRED = N_("the form expired or was already sent: load it again")
NO_RELEASE = N_("no such release")
TOO_MANY = N_("too many suggestions for now: try again later")


def refused(refusal: Refusal) -> ShareRefused:
    """The store's refusal, decided in the transaction that would have stored the share."""
    if refusal.reason == "release":
        return ShareRefused(Reason.UNKNOWN_RELEASE, NO_RELEASE)
    if refusal.reason == "token":
        return ShareRefused(Reason.BAD_TOKEN, EXPIRED)
    return ShareRefused(Reason.LIMITED, TOO_MANY, refusal.retry_after)
