"""The preview page passes the Nu Html Checker (issue 17: every new page; errors and
warnings none), in the site's language and in a right-to-left one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import npm
from tests.previews.office import EMBARGO, markdown, office_at
from tests.publishing.test_html_valid import nu_messages
from tests.web.media_items import JPEG


@pytest.mark.sqlite_only  # the page is the same bytes on either database
def test_the_preview_page_passes_the_nu_html_checker(tmp_path: Path) -> None:
    home = npm.tools()
    languages = {"languages.ar": {"title": "المكتب الصحفي"}}
    with office_at(tmp_path / "office", **languages) as office:
        text = 'The <accord> & its "terms".\n\n![At the table](photo.jpg)\n'
        office.write(
            "secret/index.md",
            markdown("Accord <b>signed</b>", text, publish_at=EMBARGO, tags=("Trade",)),
        )
        office.write("secret/photo.jpg", JPEG)
        office.write(
            "sirr.md",
            markdown("اتفاق", "نص الاتفاق.", publish_at=EMBARGO).replace(
                "+++\n", '+++\nlanguage = "ar"\n', 1
            ),
        )
        office.start()
        files = []
        for args in (("secret",), ("sirr", "--language", "ar")):
            rc, out, err = office.cli("preview", *args)
            assert rc == 0, err
            reply = office.get(out.strip().removeprefix("https://press.example.org"))
            assert reply.status == 200 and b'class="embargo"' in reply.body
            path = tmp_path / f"{args[0]}.html"
            path.write_bytes(reply.body)
            files.append(path)
    assert nu_messages(home, files) == []
