"""`feedsvc check` and `feedsvc build` on a release whose picture is broken (issue 14): the
problem is one `path:line: message` line, and the exit status says the folder is bad."""

from __future__ import annotations

from pathlib import Path

from tests.media.pictures import encode, photo
from tests.test_cli import office, run  # noqa: F401  (the fixture)

INDEX = (
    '+++\ntitle = "Accord signed"\ndate = 2021-03-01T09:00:00+08:00\nsection = "News"\n+++\n'
    "The minister signed.\n\n![The minister signs the accord](photo.jpg)\n"
)


def test_check_names_a_broken_picture(office: Path, capsys, monkeypatch) -> None:  # noqa: F811
    monkeypatch.chdir(office)
    bundle = office / "items" / "signing"
    bundle.mkdir()
    (bundle / "index.md").write_text(INDEX)
    whole = encode(photo((320, 240)), "JPEG")
    (bundle / "photo.jpg").write_bytes(whole)
    assert run(office, "check") == 0
    assert capsys.readouterr().out == "2 releases read, no problems in items\n"
    (bundle / "photo.jpg").write_bytes(whole[:1000])
    assert run(office, "check") == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("items/signing/index.md:8: photo.jpg is truncated or corrupt (")
