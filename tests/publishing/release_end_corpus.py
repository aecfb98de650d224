"""A press office whose releases end as issue 17 item 5 asks: a media contact from
config.toml, notes to editors with a URL and an email address in them, the boilerplate in
English and in Chinese, a logo, and a title that tries to close the JSON-LD script."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Newsroom, make_newsroom

CONTACT = {
    "name": "Li Wei",
    "role": "Spokesperson",
    "email": "press@example.org",
    "phone": "+86 10 6596 1114",
}
BOILERPLATE = "The Press Office speaks for the Ministry.\n\nMore at https://example.org/about."
ZH_BOILERPLATE = "外交部新闻司负责发布外交政策信息。"
HOSTILE_TITLE = "Talks </script><script>alert(1)</script> <!-- end"
TOML_TITLE = '"Talks </script><script>alert(1)</script> <!-- end"'
ENDED = "talks"  # the release with every part of an ending
ZH = "huitan"  # a Chinese release: the Chinese boilerplate


def ended_newsroom(root: Path, **sections: dict) -> Newsroom:
    """`sections` are merged into these tables (make_newsroom's)."""
    tables: dict[str, dict] = {
        "contacts": {"press": CONTACT},
        "site": {"boilerplate": BOILERPLATE, "logo": "assets/logo.png"},
        "languages": {"zh": {"title": "外交部新闻发布", "boilerplate": ZH_BOILERPLATE}},
    }
    for name, values in sections.items():
        tables[name] = {**tables.get(name, {}), **values}
    return make_newsroom(root, **tables)


def write_ended(room: Newsroom, date: str = "2026-11-27T09:00:00+08:00") -> None:
    room.write(
        f"{ENDED}.md",
        f"""+++
title = {TOML_TITLE}
date = {date}
section = "Press Releases"
contact = "press"
tags = ["trade", "Asia"]
notes_to_editors = [
  "Photographs: https://example.org/photos/2026-11-27.",
  "Interviews: write to desk@example.org <b>before</b> noon.",
]
+++
The ministry said things of note. Write to info@example.org for the full text.
""",
    )
    room.write(
        f"{ZH}.md",
        f"""+++
title = "中美会谈"
date = {date}
section = "Press Releases"
language = "zh"
contact = "press"
notes_to_editors = "照片见 https://example.org/photos。"
+++
外交部发言人今天说，双方进行了会谈。
""",
    )
