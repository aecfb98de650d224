"""A command's body named by its family module and function, imported when the command runs.

Issue 18 item 2: `feedsvc build` is timed whole, process start included, and importing every
family up front (backup, subscriber imports, the share desk) cost more than the build of one
changed release needs. The parsers name the bodies; only the one that runs is imported."""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.config import Settings


class Body:
    def __init__(self, family: str, name: str) -> None:
        self.module = f"feedsvc.cli.{family}"
        self.__name__ = name  # as a function would say it (tests/deploy reads it)

    def __call__(self, args: argparse.Namespace, settings: Settings) -> int:
        return int(getattr(importlib.import_module(self.module), self.__name__)(args, settings))

    def __repr__(self) -> str:
        return f"Body({self.module}.{self.__name__})"
