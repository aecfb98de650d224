"""The errors feedsvc reports to people. Nothing here imports the rest of feedsvc."""

from __future__ import annotations


class FeedsvcError(Exception):
    """Base of every error feedsvc raises on purpose."""


class ConfigError(FeedsvcError):
    """config.toml is unreadable or a key has a wrong value; names the key."""


class ReleaseError(FeedsvcError):
    """A release file cannot be read: names the file, the line and what was expected."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class ExportError(FeedsvcError):
    """The static export could not be written; the previous export is left as it was."""
