"""Every feed of a language in one place (issue 17 item 3): the feeds/ page (each feed with
its RSS, Atom and JSON links and a line saying what it is) and feeds.opml, the same list
as an OPML 2.0 subscription list a journalist imports into a reader in one step.

Both change only when a section or tag appears (or the archive starts); their dates come
from the data, so two builds of the same data are the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from feedsvc import layout
from feedsvc.i18n import N_, Message, translate
from feedsvc.publishing.opml import OPML, Outline, render_opml
from feedsvc.publishing.pages import FeedLink
from feedsvc.publishing.site import HTML, Document, Site
from feedsvc.store.release_reads import TagCount


@dataclass(frozen=True)
class Listed:
    """One feed as the directory shows it."""

    title: str
    folder: str  # its folder below the language's base (layout): '' for the main feed
    about: Message  # what it is, said in the page's language
    subscribe: bool = True  # a subscription feed (the archive's start is for paging back)


@dataclass(frozen=True)
class Group:
    heading: Message
    feeds: tuple[Listed, ...]
    # Autodiscovery <link>s on the page: not for tags, which may be thousands (3 <link>s
    # each in every reader's picker); they are in the list and the OPML.
    discover: bool = True


class FeedDirectory:
    """feeds/ and feeds.opml of one `Site` (one language)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def groups(
        self,
        sections: list[tuple[str, str]] | None = None,
        tags: list[TagCount] | None = None,
    ) -> list[Group]:
        """The main feeds and the archive's start, then each section's, then each tag's;
        `sections` and `tags` as the store gives them, when the caller has read them."""
        site = self.site
        title = site.site.title
        main = [Listed(title, "", N_("Every release, newest first."))]
        if site.archive_pages():
            main.append(
                Listed(
                    f"{title} ({translate(N_('archive'), site.pages.translations)})",
                    layout.archive(1),
                    N_("The complete archive, oldest first, page by page (RFC 5005)."),
                    subscribe=False,
                )
            )
        sections = tuple(
            Listed(
                f"{title}: {site.language.section_name(name)}",
                layout.section(slug),
                N_("The releases of this section."),
            )
            for slug, name in (site.store.sections() if sections is None else sections)
        )
        tags = tuple(
            Listed(f"{title}: {name}", layout.tag_page(slug), N_("The releases with this tag."))
            for slug, name, _ in (site.store.tags() if tags is None else tags)
        )
        found = [Group(N_("All releases"), tuple(main))]
        found += [Group(N_("Sections"), sections)] if sections else []
        found += [Group(N_("Tags"), tags, discover=False)] if tags else []
        return found

    def page(self, groups: list[Group] | None = None) -> Document:
        """feeds/: every feed, with autodiscovery of the main and section feeds; `groups`
        when the caller has them (a build reads the sections and tags once, issue 18)."""
        site, pages = self.site, self.site.pages
        groups = self.groups() if groups is None else groups
        base_url = site.site.base_url
        body = pages.env.get_template("feeds.html").render(
            **pages.base,
            groups=groups,
            feeds=[
                FeedLink(f.title, base_url + f.folder)
                for g in groups
                for f in g.feeds
                if f.subscribe and g.discover
            ],
            canonical=base_url + layout.feeds_page(),
            description=site.site.description,
        )
        return Document(site.prefix + layout.feeds_page(), HTML, body.encode("utf-8"))

    def opml(self, groups: list[Group] | None = None) -> Document:
        """feeds.opml: the RSS feed of each, grouped as on the page (OPML 2.0)."""
        site = self.site
        modified = self._modified()
        said = site.pages.translations
        base_url = site.site.base_url
        outlines = [
            Outline(
                translate(group.heading, said),
                tuple(
                    Outline(f.title, (), base_url + f.folder + "feed.xml", base_url + f.folder)
                    for f in group.feeds
                    if f.subscribe
                ),
            )
            for group in (self.groups() if groups is None else groups)
        ]
        body = render_opml(
            title=f"{site.site.title}: {translate(N_('Feeds'), said)}",
            created=site.epoch,
            modified=modified,
            owner=site.site.author or site.site.title,
            language=site.site.language,
            outlines=outlines,
        )
        return Document(site.prefix + layout.opml(), OPML, body, modified=modified)

    def _modified(self) -> dt.datetime:
        """The newest release's last change: when a section or tag last could appear."""
        newest = self.site.store.latest(1)
        return max([self.site.epoch, *(s.updated for s in newest)])
