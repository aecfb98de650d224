"""Helpers shared by the reader tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import Settings, settings_from_dict
from feedsvc.errors import ReleaseError
from feedsvc.model import Release
from feedsvc.reading import parse_release


def make_settings(items_dir: Path, **items: object) -> Settings:
    return settings_from_dict(
        {"items": {"dir": str(items_dir), **items}, "site": {"timezone": "Asia/Shanghai"}},
        root=items_dir,
    )


def read(text: str, settings: Settings, rel: str = "x.md") -> Release:
    return parse_release(rel, text.encode(), settings)


def read_error(text: str, settings: Settings, rel: str = "x.md") -> str:
    with pytest.raises(ReleaseError) as caught:
        parse_release(rel, text.encode(), settings)
    return str(caught.value)
