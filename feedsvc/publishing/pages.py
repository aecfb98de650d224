"""HTML pages and the sitemap, from Jinja2 templates with autoescaping on; in each language
of the site (issue 15): its strings from the catalogs (i18n.py), its dates from CLDR."""

from __future__ import annotations

import copy
import datetime as dt
import gettext
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, Template, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from feedsvc import layout
from feedsvc.config import AlertSettings, ShareSettings, SiteSettings
from feedsvc.config.contacts import Contact
from feedsvc.i18n import format_date, template_callables, translations
from feedsvc.languages import Alternate, Language, Languages
from feedsvc.model import FOLLOWED_TAG, ListedRelease, Release, StoredRelease, is_release_id
from feedsvc.publishing.folding import folded_environment
from feedsvc.publishing.mailto import mailto_link
from feedsvc.publishing.release_end import ending, mailto
from feedsvc.publishing.release_files import PageFiles, ReleaseFiles
from feedsvc.publishing.structured import Image, news_article, script_json


def security_headers(form_action: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """The protections of a page the service answers with itself (the share pages, a feed's
    browser page): one policy, so a change of what pages may load is made once. Unsubscribe
    and share tokens live in URLs: no other site is told them; not "no-referrer", with which
    a browser sends `Origin: null` on a form's own POST, which reads as cross-site."""
    return (
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (
            b"content-security-policy",
            b"default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none';"
            b" form-action " + form_action + b"; base-uri 'none'",
        ),
    )


@pass_context
def longdate(context: Context, value: dt.datetime) -> str:
    """'September 11, 2020', '2020年9月11日': the date as the page's language writes it
    (CLDR through Babel, issue 15), whatever the process locale."""
    return format_date(value, context.get("date_locale") or "en")


# Issue 18: the share and subscribe forms, rendered through their macros on every release
# and index page, were a sixth of a build's rendering; on every page of one language they
# differ only by the release id (the share form's URLs) and the section the subscribe form
# offers. So each is rendered once per language, environment and section (`_Forms`), and a
# release's share form is that one with its id put in place of _FORM_ID.
_FORM_ID = "feedsvc-form-release-0"  # a valid release id: it needs no escaping or quoting
_SHARE_FORM = (
    '{% from "_share_form.html" import share_form with context %}'
    "{{ share_form(release_id, share_rules) }}"
)
_SUBSCRIBE_FORM = (
    '{% from "_subscribe_form.html" import subscribe_form with context %}'
    "{{ subscribe_form(alert_rules, this_section=this_section, compact=True) }}"
)


class _Forms:
    """One language's forms, made with `env` (the page template's own, so folded strings
    or not, the forms say what the page would) and `context` (the page's base context)."""

    def __init__(self, env: Environment, context: Mapping[str, Any]) -> None:
        self._env = env
        self._context = context
        self._share: str | None = None
        self._subscribe: dict[tuple[str, str] | None, Markup] = {}

    def share(self, release_id: str) -> Markup:
        if not is_release_id(release_id):  # never, for a stored release: said in full then
            return self._render(_SHARE_FORM, release_id=release_id)
        if self._share is None:
            self._share = str(self._render(_SHARE_FORM, release_id=_FORM_ID))
        return Markup(self._share.replace(_FORM_ID, release_id))

    def subscribe(self, this_section: tuple[str, str] | None) -> Markup:
        found = self._subscribe.get(this_section)
        if found is None:
            found = self._subscribe[this_section] = self._render(
                _SUBSCRIBE_FORM, this_section=this_section
            )
        return found

    def _render(self, source: str, **values: Any) -> Markup:
        return Markup(self._env.from_string(source).render(**self._context, **values))


Catalog = gettext.NullTranslations


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("feedsvc", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=False,
        keep_trailing_newline=True,
        # Templates ship with the package: no stat() of them on every render.
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # gettext/ngettext come with each render's context (i18n.template_callables).
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.filters["longdate"] = longdate
    # Templates build their links with the URL layout, as the code does (issue 13).
    env.globals["layout"] = layout
    env.globals["mailto_uri"] = mailto  # RFC 6068 hrefs (release_end.py)
    return env


# A catalog's strings folded into the one environment (folding.py), each template compiled
# on first use: by catalog (one a language, `_catalog`; a test's own is another).
_FOLDED: dict[Catalog, Environment] = {}


def _folded(catalog: Catalog) -> Environment:
    found = _FOLDED.get(catalog)
    if found is None:
        found = _FOLDED[catalog] = folded_environment(_environment(), catalog)
    return found


def keep_compiled_templates(folder: Path) -> None:
    """Templates compiled once and kept in `folder` between processes (compiled.py), for
    the pages' environment and each language's."""
    from feedsvc.publishing.compiled import keep_compiled

    keep_compiled([_environment(), *_FOLDED.values()], folder)


@cache
def _catalog(tag: str) -> Catalog:
    """The catalog of `tag`, one object a process: the compiled templates are keyed by it."""
    return translations(tag)


@dataclass(frozen=True)
class FeedLink:
    title: str
    url: str  # the feed's folder URL; the formats' file names are appended


class Pages:
    """The site's pages in one language; `in_language` gives them in another, sharing the
    one compiled environment (six languages do not cost six compilations)."""

    def __init__(
        self,
        site: SiteSettings,
        share: ShareSettings,
        files: ReleaseFiles | None = None,
        language: Language | None = None,
        alerts: AlertSettings | None = None,
        contacts: Mapping[str, Contact] | None = None,
    ) -> None:
        self.root = site  # as configured: assets, the sitemap and the share API live there
        self.share = share
        # Issue 16: the subscribe form on the index, section and release pages.
        self.alerts = alerts or AlertSettings()
        self.files = files
        # Issue 17: the media contacts a release's front matter `contact` names.
        self.contacts: Mapping[str, Contact] = dict(contacts or {})
        # Issue 18: one environment and one set of compiled templates a process (each of
        # a build's parts made its own Pages, and compiled them all again).
        self.env = _environment()
        # The pages rendered by the thousand, per language with their fixed strings
        # compiled in (folding.py), made on first use (once a process: `_folded`); shared
        # by every in_language copy.
        self._hot: dict[str, tuple[Template, Template]] = {}
        self._named: dict[tuple[str, str], Template] = {}  # other templates, likewise
        # Issue 18: the forms say this site's settings: shared by in_language copies only.
        self._forms: dict[tuple[Environment, str], _Forms] = {}
        self._speak(language or Languages(site).default)

    def in_language(self, language: Language) -> Pages:
        """These pages in `language`: the same environment and templates."""
        if language == self.language:
            return self
        other = copy.copy(self)
        other._speak(language)
        return other

    def _speak(self, language: Language) -> None:
        self.language = language
        self.site = site = language.site
        self.translations = _catalog(language.tag)
        self.base: dict[str, Any] = {
            "site": site,
            "base_path": site.base_path,
            "root_path": self.root.base_path,
            # The site's own language as configured: a one-language site keeps its bytes.
            "lang": self.root.language if language.default else language.tag,
            "dir": language.direction,
            "date_locale": language.tag,
            "section_name": language.section_name,
            "alternates": (),
            # The share form's token is asked for the release in this language.
            "token_language": "" if language.default else "&language=" + language.tag,
            "alert_rules": self.alerts if self.alerts.enabled else None,
            **template_callables(self.translations),
        }
        self.main_feed = FeedLink(site.title, site.base_url)

    def _templates(self) -> tuple[Template, Template]:
        """release.html and index.html in this language, fixed strings compiled in."""
        found = self._hot.get(self.language.tag)
        if found is None:
            env = _folded(self.translations)
            found = (env.get_template("release.html"), env.get_template("index.html"))
            self._hot[self.language.tag] = found
        return found

    def forms(self, page: Template) -> _Forms:
        """The forms of `page` (a template of this language), made once (issue 18)."""
        key = (page.environment, self.language.tag)
        found = self._forms.get(key)
        if found is None:
            context = {**self.base, "share_rules": self.share if self.share.enabled else None}
            found = self._forms[key] = _Forms(page.environment, context)
        return found

    def template(self, name: str) -> Template:
        """The template `name` in this language, fixed strings compiled in, made once."""
        key = (self.language.tag, name)
        found = self._named.get(key)
        if found is None:
            found = self._named[key] = _folded(self.translations).get_template(name)
        return found

    def release_url(self, release_id: str) -> str:
        return self.site.base_url + layout.release(release_id)

    def release(
        self,
        stored: StoredRelease,
        alternates: Sequence[Alternate] = (),
        *,
        template: str = "release.html",
        extra: Mapping[str, Any] | None = None,
        file_query: str = "",
    ) -> bytes:
        """The release's page; or (issue 17, embargoed previews) the same data through
        another template that extends release.html, with `extra` context over it and
        `file_query` ("?t=...") after every URL of its files."""
        r = stored.release
        tz = self.site.tz
        url = self.release_url(r.id)
        section_feed = FeedLink(
            f"{self.site.title}: {self.language.section_name(r.section)}",
            self.site.base_url + layout.section(r.section_slug),
        )
        files = self._files(stored, file_query)
        published, updated = r.published.astimezone(tz), stored.updated.astimezone(tz)
        page = self._templates()[0] if template == "release.html" else self.template(template)
        context = dict(
            **{**self.base, "lang": r.language, "alternates": alternates},
            r=r,
            url=url,
            canonical=url,
            description=r.summary,
            feeds=[self.main_feed, section_feed],
            published=published,
            updated=updated,
            # Bodies are escaped (text) or sanitised by nh3 (Markdown) when read; the figures
            # put into them escape what they add (publishing/figures.py).
            body=Markup(files.body_html if files else r.body_html),
            lead=Markup(files.lead_html) if files else None,
            card=files.card if files else None,
            downloads=files.downloads if files else (),
            mailto=mailto_link(r.title, r.summary, url),
            share_rules=self.share if self.share.enabled else None,
            forms=self.forms(page),
            # Issue 17: how a press release ends, and what search engines read of it.
            end=ending(r, self.contacts, self.site.boilerplate),
            structured=script_json(
                news_article(
                    r,
                    url=url,
                    published=published,
                    modified=updated,
                    site=self.site,
                    root=self.root,
                    section=self.language.section_name(r.section),
                    images=self._images(stored),
                )
            ),
        )
        return page.render({**context, **(extra or {})}).encode("utf-8")

    def release_end(self, release: Release) -> str:
        """The end of a release (notes to editors, about, media contact) as a feed entry
        carries it (issue 17): the page's own partial, in this language; "" for none."""
        end = ending(release, self.contacts, self.site.boilerplate)
        if not end:
            return ""
        return self.env.get_template("_release_end.html").render(**self.base, end=end)

    def _images(self, stored: StoredRelease) -> list[Image]:
        """The lead picture's renditions, largest first, then its social card (another
        aspect ratio, as Google asks for several): NewsArticle `image`."""
        r = stored.release
        lead = r.lead_image
        if self.files is None or lead is None:
            return []
        base_url, media = self.site.base_url, self.files.media
        variants = [*reversed(media.widths(lead)), media.card(lead)]
        return [
            Image(base_url + layout.release_file(r.id, v.name), v.width or 0, v.height or 0)
            for v in variants
        ]

    def _files(self, stored: StoredRelease, query: str = "") -> PageFiles | None:
        """The release's pictures and downloads (issue 14); None without any."""
        if self.files is None or not stored.release.media:
            return None
        base_path, base_url = self.site.base_path, self.site.base_url
        return self.files.page(
            stored.release,
            lambda rid, name: base_path + layout.release_file(rid, name) + query,
            lambda rid, name: base_url + layout.release_file(rid, name) + query,  # absolute
            self.language.tag,
        )

    def index(
        self,
        releases: Sequence[ListedRelease],
        *,
        page: int,
        newer: str | None,
        older: str | None,
        heading: str | None = None,
        feed: FeedLink | None = None,
        canonical: str | None = None,
        alternates: Sequence[Alternate] = (),
    ) -> bytes:
        template = self._templates()[1]
        html = template.render(
            **{**self.base, "alternates": alternates},
            forms=self.forms(template),
            releases=releases,
            tz=self.site.tz,
            page=page,
            newer=newer,
            older=older,
            heading=heading,
            feeds=[feed or self.main_feed],
            canonical=canonical,
            description=self.site.description,
            this_section=self._section_of(feed, heading),
        )
        return html.encode("utf-8")

    def _section_of(self, feed: FeedLink | None, heading: str | None) -> tuple[str, str] | None:
        """(slug, name) when the index is a section's page (its feed is the section's): its
        subscribe form offers that section (issue 16); ("tag:<slug>", name) for a tag's."""
        base_url = self.site.base_url
        if feed is None or heading is None or not feed.url.startswith(base_url):
            return None
        target = layout.parse(feed.url[len(base_url) :])
        if isinstance(target, layout.TagPage):  # issue 17: a tag's page offers that tag
            return (FOLLOWED_TAG + target.slug, heading)
        return (target.slug, heading) if isinstance(target, layout.SectionPage) else None

    def simple(self, name: str) -> bytes:
        """A page with no data of its own, in the language: 404.html, 410.html, 503.html."""
        html = self.env.get_template(name).render(**self.base, feeds=[self.main_feed])
        return html.encode("utf-8")

    def sitemap(self, urls: list[tuple[str, str | None]]) -> bytes:
        return self.env.get_template("sitemap.xml").render(urls=urls).encode("utf-8")

    def sitemap_index(self, sitemaps: list[tuple[str, str]]) -> bytes:
        return self.env.get_template("sitemapindex.xml").render(sitemaps=sitemaps).encode("utf-8")
