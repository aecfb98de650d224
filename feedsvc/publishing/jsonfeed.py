"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written with `json`: feedgen has none."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from feedsvc.publishing.feed import Entry, Feed


def _date(value: dt.datetime) -> str:
    return value.isoformat()


def _files(entry: Entry) -> dict[str, Any]:
    """`image` (the lead picture's URL) and `attachments` (issue 14), only when there are:
    an item without files keeps its bytes."""
    files: dict[str, Any] = {}
    if entry.image is not None:
        files["image"] = entry.image.url
    if entry.attachments:
        files["attachments"] = [
            {"url": a.url, "mime_type": a.media_type, "title": a.title, "size_in_bytes": a.length}
            for a in entry.attachments
        ]
    return files


class JsonFeedWriter:
    filename = "feed.json"
    media_type = "application/feed+json; charset=utf-8"

    def render(self, feed: Feed) -> bytes:
        doc: dict[str, Any] = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": feed.title,
            "home_page_url": feed.home_url,
            "feed_url": feed.url(self.filename),
            "description": feed.description,
            "language": feed.language,
            "authors": [{"name": feed.author}],
        }
        if feed.hubs:
            doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in feed.hubs]
        # Paging through the complete history goes from newer to older (spec: next_url).
        if feed.prev_archive is not None:
            doc["next_url"] = feed.url(self.filename, feed.prev_archive)
        doc["items"] = [
            {
                "id": entry.id,
                "url": entry.url,
                "title": entry.title,
                "content_html": entry.content_html,
                "summary": entry.summary,
                "date_published": _date(entry.published),
                "date_modified": _date(entry.updated),
                "authors": [{"name": entry.author}],
                # Strings (JSON Feed 1.1), each once: a tag may repeat the section.
                "tags": list(dict.fromkeys([entry.section, *entry.tags])),
                "language": entry.language,
                **_files(entry),
            }
            for entry in feed.entries
        ]
        # No indent: it would switch json to its pure-Python encoder (10x slower).
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
