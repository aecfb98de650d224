"""A release's files as pages and feeds show them (issue 14): figures, the social card,
the downloads list, and the feeds' pictures and attachments with their exact sizes.

Names, widths and heights come from `ReleaseMedia` without touching a pixel. The feeds also
need a picture's exact byte length (RSS enclosure `length`, Media RSS `fileSize`, Atom
`length`, JSON Feed `size_in_bytes`), which only the encoded variant knows: it is made once
per content by the media cache (the same bytes the server sends for it) and its length is
remembered here by the variant's content-addressed name, which never changes meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from babel.units import format_unit

from feedsvc import layout
from feedsvc.i18n import locale
from feedsvc.media import MediaError
from feedsvc.model import MediaRef, Release
from feedsvc.publishing.feed import Attachment, Picture
from feedsvc.publishing.figures import Figure, figure_html, with_figures
from feedsvc.publishing.media import Found, ReleaseMedia, SourceChanged, Variant

UrlOf = Callable[[str, str], str]  # (release id, file name) -> URL


@dataclass(frozen=True, slots=True)
class Card:
    """og:image and twitter:image: the 1200x630 crop of the lead picture."""

    url: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True, slots=True)
class Download:
    title: str
    url: str
    kind: str  # "PDF", "DOCX"
    size: str  # "1.2 MB"
    media_type: str


@dataclass(frozen=True, slots=True)
class PageFiles:
    """What a release page shows of its files."""

    lead_html: str  # the lead picture's <figure> above the text, or ""
    body_html: str  # the text with its pictures as figures
    card: Card | None
    downloads: list[Download] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FeedFiles:
    """What a feed entry carries of its files; URLs absolute."""

    content_html: str  # the lead figure and the text with its figures
    pictures: tuple[Picture, ...] = ()
    attachments: tuple[Attachment, ...] = ()


class ReleaseFiles:
    def __init__(self, media: ReleaseMedia) -> None:
        self.media = media
        self._lengths: dict[str, int] = {}

    def page(
        self, release: Release, url_of: UrlOf, card_url_of: UrlOf, language: str = "en"
    ) -> PageFiles:
        lead, body = self._figures_html(release, url_of)
        downloads = self.downloads(release, url_of, language)
        return PageFiles(lead, body, self.card(release, card_url_of), downloads)

    def feed(self, release: Release, base_url: str) -> FeedFiles:
        def url_of(release_id: str, name: str) -> str:
            return base_url + layout.release_file(release_id, name)

        lead, body = self._figures_html(release, url_of)
        return FeedFiles(
            lead + body, self.pictures(release, base_url), self.attachments(release, base_url)
        )

    def _figures_html(self, release: Release, url_of: UrlOf) -> tuple[str, str]:
        """The lead figure above the text when the text does not show it (front matter
        `image`), and the text with its pictures as figures; the first picture is eager."""
        figures = self.figures(release, url_of)
        lead = release.lead_image
        shown = lead is not None and lead.role == "image" and not _names(release.body_html, lead)
        lead_html = figure_html(figures[lead.name], eager=True) if shown and lead else ""
        return lead_html, with_figures(release.body_html, figures, first_eager=not lead_html)

    # -- pages ---------------------------------------------------------------------------

    def figures(self, release: Release, url_of: UrlOf) -> dict[str, Figure]:
        """Every picture of the release by the name the text uses for it."""
        return {ref.name: self.figure(release.id, ref, url_of) for ref in _pictures(release)}

    def figure(self, release_id: str, ref: MediaRef, url_of: UrlOf) -> Figure:
        widths = self.media.widths(ref)
        widest = widths[-1]
        return Figure(
            src=url_of(release_id, widest.name),
            srcset=tuple((url_of(release_id, v.name), v.width or 0) for v in widths),
            width=widest.width or 0,
            height=widest.height or 0,
            alt=ref.alt,
            caption=ref.caption,
            credit=ref.credit,
        )

    def card(self, release: Release, url_of: UrlOf) -> Card | None:
        lead = release.lead_image
        if lead is None:
            return None
        card = self.media.card(lead)
        return Card(url_of(release.id, card.name), card.width or 0, card.height or 0, lead.alt)

    def downloads(self, release: Release, url_of: UrlOf, language: str = "en") -> list[Download]:
        return [
            Download(
                title=ref.title or ref.name,
                url=url_of(release.id, ref.name),
                kind=kind_label(ref.name),
                size=size_label(ref.size, language),
                media_type=ref.media_type,
            )
            for ref in release.attachments
        ]

    # -- feeds (absolute URLs) -----------------------------------------------------------

    def pictures(self, release: Release, base_url: str) -> tuple[Picture, ...]:
        """Every picture, the lead first: its width for feeds with its exact length."""
        lead = release.lead_image
        refs = sorted(_pictures(release), key=lambda ref: ref is not lead)
        pictures = []
        for ref in refs:
            try:
                pictures.append(self._picture(release.id, ref, base_url))
            except (SourceChanged, MediaError):
                # Its file was replaced since it was read (the rescan that follows edits
                # the release and renders its feeds again) or cannot be decoded: no length
                # can be told, so the feeds leave the picture out until then.
                continue
        return tuple(pictures)

    def attachments(self, release: Release, base_url: str) -> tuple[Attachment, ...]:
        return tuple(
            Attachment(
                url=base_url + layout.release_file(release.id, ref.name),
                media_type=ref.media_type,
                length=ref.size,  # served as read (publishing/media.py)
                title=ref.title or ref.name,
            )
            for ref in release.attachments
        )

    def _picture(self, release_id: str, ref: MediaRef, base_url: str) -> Picture:
        widths = self.media.widths(ref)
        shown, thumbnail = self.media.for_feeds(ref), widths[0]
        return Picture(
            url=base_url + layout.release_file(release_id, shown.name),
            media_type=shown.media_type,
            width=shown.width or 0,
            height=shown.height or 0,
            length=self._length(ref, shown),
            alt=ref.alt,
            thumbnail_url=base_url + layout.release_file(release_id, thumbnail.name),
            thumbnail_width=thumbnail.width or 0,
            thumbnail_height=thumbnail.height or 0,
        )

    def _length(self, ref: MediaRef, variant: Variant) -> int:
        known = self._lengths.get(variant.name)
        if known is None:
            known = self._lengths[variant.name] = len(self.media.bytes_of(Found(ref, variant)))
        return known


def _names(body_html: str, ref: MediaRef) -> bool:
    """Whether the text shows this picture itself (an <img> naming it)."""
    return f'src="{ref.name}"' in body_html or f'src="./{ref.name}"' in body_html


def _pictures(release: Release) -> list[MediaRef]:
    return [ref for ref in release.media if ref.is_image]


def kind_label(name: str) -> str:
    """'statement.pdf' -> 'PDF': the extension, which the bytes were checked against."""
    return name.rpartition(".")[2].upper()


def size_label(size: int, language: str = "en") -> str:
    """Decimal units, as file managers show them, in the page's language (CLDR units
    through Babel, issue 15): '812 bytes', '48.2 kB', '1.2 MB'; '1,2 Mo'; '812字节'."""
    if size < 1000:
        return format_unit(size, "digital-byte", length="long", locale=locale(language))
    for unit, scale in (("kilobyte", 1e3), ("megabyte", 1e6), ("gigabyte", 1e9)):
        value = size / scale
        if value < 999.95 or unit == "gigabyte":
            pattern = "#,##0" if value >= 100 else "#,##0.0"
            return format_unit(
                value, f"digital-{unit}", length="short", format=pattern, locale=locale(language)
            )
    raise AssertionError("unreachable")
