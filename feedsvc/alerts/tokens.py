"""The signed links of email alerts (issue 16): confirm (good alerts.confirm_days), and
manage/unsubscribe (good while the subscription lasts: a subscriber who leaves and comes
back has a new id, so old links stay dead). The subscriber id is random (128 bits); the
signature makes a link unforgeable even for someone who learnt an id."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from feedsvc.sharing.keys import Signer

_ID = re.compile(r"[0-9a-f]{32}")
_CONFIRM, _MANAGE = "alerts-confirm", "alerts-manage"


def confirm_token(signer: Signer, subscriber_id: str, issued: dt.datetime) -> str:
    return signer.sign(_CONFIRM, f"{subscriber_id}|{int(issued.timestamp())}")


def confirmed_id(signer: Signer, token: str, now: dt.datetime, days: int) -> str | None:
    """The subscriber a confirmation link names, if it is ours and not older than `days`."""
    payload = signer.unsign(_CONFIRM, token)
    if payload is None:
        return None
    subscriber_id, _, issued = payload.partition("|")
    if not _ID.fullmatch(subscriber_id) or not issued.isdigit():
        return None
    age = now.timestamp() - int(issued)
    return subscriber_id if 0 <= age <= days * 86400 else None


def manage_token(signer: Signer, subscriber_id: str) -> str:
    return signer.sign(_MANAGE, subscriber_id)


def managed_id(signer: Signer, token: str) -> str | None:
    """The subscriber a manage (or one-click unsubscribe) link names, if it is ours."""
    subscriber_id = signer.unsign(_MANAGE, token)
    return subscriber_id if subscriber_id and _ID.fullmatch(subscriber_id) else None


def verp_key(signer: Signer) -> bytes:
    """The key of the return paths' MACs (alerts/bounces.py), derived from the site's key."""
    return hashlib.sha256(signer.digest("verp", "return-path").encode()).digest()
