"""Helpers shared by the reader tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import Settings, settings_from_dict
from feedsvc.errors import ReleaseError
from feedsvc.model import Release
from feedsvc.reading import parse_release


def make_settings(
    items_dir: Path, languages: dict[str, dict] | None = None, **items: object
) -> Settings:
    """`languages`: `[languages.<tag>]` tables (issue 15), none by default."""
    raw: dict[str, object] = {
        "items": {"dir": str(items_dir), **items},
        "site": {"timezone": "Asia/Shanghai"},
    }
    if languages is not None:
        raw["languages"] = languages
    return settings_from_dict(raw, root=items_dir)


def read(text: str, settings: Settings, rel: str = "x.md") -> Release:
    return parse_release(rel, text.encode(), settings)


def read_error(text: str, settings: Settings, rel: str = "x.md") -> str:
    with pytest.raises(ReleaseError) as caught:
        parse_release(rel, text.encode(), settings)
    return str(caught.value)
