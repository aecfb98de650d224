from __future__ import annotations

import io

from feedsvc.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal() -> None:
    out = Terminal()
    bar = Progress("reading", stream=out, every=0)
    for done in range(1, 5):
        bar(done, 4)
    bar.close()
    text = out.getvalue()
    assert text.startswith("\rreading [") and text.endswith("] 4/4\n")
    assert "#" * 30 in text


def test_progress_is_silent_off_a_terminal() -> None:
    out = io.StringIO()
    bar = Progress("reading", stream=out, every=0)
    bar(1, 2)
    bar(2, 2)
    bar.close()
    assert out.getvalue() == ""
