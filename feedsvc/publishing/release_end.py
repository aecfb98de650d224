"""How a press release ends (issue 17 item 5): "Notes to editors", "About <the press
office>" (`site.boilerplate`, per language) and "Media contact" (`[contacts.<name>]`),
in that order, as PR newswires close a release: the notes first (they follow the "ENDS"
line of a UK-style release), then the boilerplate ("About ..."), then whom to call
(Business Wire and PR Newswire put "Contacts" last).

One renderer for the page and the feeds' entries: `ending` gathers what to show,
`templates/_release_end.html` writes it (Pages.release_end renders it on its own for a
feed entry, release.html includes it). Text comes from config and front matter as plain
text: it is escaped here, and the URLs and email addresses in it become links ("email
addresses on pages stay usable links": a real mailto: href, no obfuscation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup, escape

from feedsvc.config.contacts import Contact
from feedsvc.model import Release

# What a reader's mail program or browser would link in plain text: http(s) URLs and
# mailboxes. A URL's trailing punctuation is the sentence's, not the URL's, and CJK
# punctuation (full-width, with no space before it) ends a URL.
_LINKABLE = re.compile(
    r"(?P<url>https?://[^\s<>\"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+)"
    r"|(?P<email>[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,63})"
)
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class Ending:
    """What a release ends with; empty parts are left out."""

    notes: tuple[Markup, ...]  # each note escaped, its URLs and addresses linked
    about: tuple[Markup, ...]  # the boilerplate's paragraphs, likewise
    contact: Contact | None

    def __bool__(self) -> bool:
        return bool(self.notes or self.about or self.contact)


def ending(release: Release, contacts: Mapping[str, Contact], boilerplate: str) -> Ending:
    """The end of `release`: its notes, the boilerplate of its language's site, and its
    contact (None when it names none; the reader refuses a name config lacks, issue 17)."""
    contact = contacts.get(release.contact) if release.contact else None
    return Ending(
        tuple(linked(note) for note in release.notes_to_editors if note.strip()),
        tuple(linked(p) for p in paragraphs(boilerplate)),
        contact,
    )


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, their lines joined."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def linked(text: str) -> Markup:
    """`text` escaped, its http(s) URLs and email addresses as links. Every piece is
    escaped on its own, so neither the text nor a link can open markup."""
    out: list[str] = []
    at = 0
    for m in _LINKABLE.finditer(text):
        found = m.group()
        kept = found.rstrip(_TRAILING) if m.lastgroup == "url" else found
        if not kept or kept.endswith("://"):
            continue
        out.append(escape(text[at : m.start()]))
        href = kept if m.lastgroup == "url" else mailto(kept)
        out.append(Markup('<a href="{}">{}</a>').format(href, kept))
        at = m.start() + len(kept)
    out.append(escape(text[at:]))
    return Markup("".join(out))


def mailto(address: str) -> str:
    """The mailto: URI of a mailbox (RFC 6068 section 2: '%', '?', '#', '&' and the like
    in an address are percent-encoded, so a mail program opens a message to that mailbox
    and not one with a query)."""
    return "mailto:" + quote(address, safe="@!$'()*+,;:-._~")
