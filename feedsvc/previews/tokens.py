"""A preview link's token: the release key, the moment it stops working and the release's
preview epoch, signed with the site's key for this one purpose (sharing/keys.Signer).

Revoking a release's previews changes its epoch (a fact of the store): every token made
before carries the old one and is refused from the next request on, without a list of
tokens to keep. The checks compare in constant time and one answer, `None`, covers a
forged, expired, revoked or other release's token: no oracle (issue 17 item 6)."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from feedsvc.sharing.keys import Signer

PURPOSE = "release-preview"


def epoch_fact(release_key: str) -> str:
    """The store_facts name holding a release's preview epoch."""
    return f"preview-epoch {release_key}"


def new_epoch() -> str:
    # Random rather than counted: two revokes at once still leave an epoch no token has.
    return secrets.token_urlsafe(9)


@dataclass(frozen=True)
class Grant:
    """What a good token says."""

    release_key: str
    expires: dt.datetime
    epoch: str


class PreviewTokens:
    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def make(self, release_key: str, expires: dt.datetime, epoch: str) -> str:
        # Whole seconds: the same command gives the same token, so its email key repeats.
        seconds = int(expires.timestamp())
        return self.signer.sign(PURPOSE, f"{release_key}\n{seconds}\n{epoch}")

    def read(self, token: str) -> Grant | None:
        """What the token grants if this key signed it (not yet checked against a release,
        a moment or an epoch)."""
        payload = self.signer.unsign(PURPOSE, token)
        if payload is None:
            return None
        parts = payload.split("\n")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        expires = dt.datetime.fromtimestamp(int(parts[1]), dt.UTC)
        return Grant(parts[0], expires, parts[2])

    @staticmethod
    def grants(grant: Grant | None, release_key: str, epoch: str | None) -> bool:
        """The token is for this release, of its current epoch (expiry aside)."""
        if grant is None or epoch is None:
            return False
        same_release = hmac.compare_digest(grant.release_key.encode(), release_key.encode())
        same_epoch = hmac.compare_digest(grant.epoch.encode(), epoch.encode())
        return same_release & same_epoch
