"""The one error of the media core: a file that may not be published, said for people."""

from __future__ import annotations

from feedsvc.errors import FeedsvcError


class MediaError(FeedsvcError):
    """A file is refused: the message names the file and what is wrong (issue 14, "Bad input").

    The reader that found the file adds its `path:line:`; the message itself never carries
    the file's bytes.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
