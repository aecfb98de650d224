"""The preview page's HTML (issue 17 item 6): the release page's own rendering
(publishing/pages.Pages.release, so it shows what the public page will) through
templates/preview.html, which adds the "EMBARGOED until" banner and leaves out what would
share the release or name its public URL as live. Pictures are linked with the same token,
so they show on the preview while their public URLs answer 404.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from feedsvc import layout
from feedsvc.i18n import format_datetime
from feedsvc.languages import Language
from feedsvc.model import StoredRelease
from feedsvc.publishing.pages import Pages

# The banner's look, inline (no asset of its own) and allowed by its hash in the page's
# Content-Security-Policy (web/preview.py): the pages' policy has no 'unsafe-inline'.
BANNER_STYLE = (
    ".embargo{margin:1rem 0 0;padding:.75rem 1rem;border:2px solid #8a1c00;"
    "border-radius:.35rem;background:#fff4f0;color:#5c1300;overflow-wrap:anywhere}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(BANNER_STYLE.encode()).digest()).decode()


class PreviewPages:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def render(
        self, stored: StoredRelease, language: Language, token: str, expires: dt.datetime
    ) -> bytes:
        pages = self.pages.in_language(language)
        embargo = stored.release.publish_at
        assert embargo is not None
        extra = {
            "when": format_datetime(embargo.astimezone(pages.site.tz), language.tag),
            "banner_style": BANNER_STYLE,
            "canonical": None,
            "alternates": (),
            "share_rules": None,
            "alert_rules": None,
            "expires": expires,
        }
        return pages.release(stored, template="preview.html", extra=extra, file_query=f"?t={token}")


def public_path(pages: Pages, language: Language, release_id: str) -> str:
    """Where the preview redirects once the embargo has lifted (a path below the host)."""
    return pages.in_language(language).site.base_path + layout.release(release_id)
