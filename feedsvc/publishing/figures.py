"""A release's pictures as HTML (issue 14): one `<figure>` markup for the page and the feeds,
and the rewrite of the body's `<img>` tags that name the release's pictures into it.

The body was sanitised by nh3 when read, so its tags are well-formed: every attribute value
is double-quoted with `&`, `"`, `<` and `>` escaped. Whatever is written back is escaped
again here: alt text and captions are a press office's text, not markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

# The text column is 46rem wide with 1rem of padding either side (static/style.css): a
# browser picks from srcset the narrowest width that fills it at the screen's density.
SIZES = "(min-width: 46rem) 44rem, calc(100vw - 2rem)"

_ATTRIBUTE = r'\s+[A-Za-z_:][-A-Za-z0-9_:.]*(?:="[^"]*")?'
_IMG = re.compile(rf"<img(?:{_ATTRIBUTE})*\s*/?>")
# A picture alone in its paragraph (Markdown's `![alt](photo.jpg)` on a line of its own):
# the figure takes the paragraph's place, since a <figure> cannot sit inside a <p>.
_ALONE = re.compile(rf"<p>\s*(<img(?:{_ATTRIBUTE})*\s*/?>)\s*</p>")
_PAIR = re.compile(r'([A-Za-z_:][-A-Za-z0-9_:.]*)(?:="([^"]*)")?')


@dataclass(frozen=True, slots=True)
class Figure:
    """A picture as a page or a feed shows it; URLs already made (relative or absolute)."""

    src: str  # the widest width
    srcset: tuple[tuple[str, int], ...]  # (url, width), narrowest first
    width: int  # of the widest
    height: int
    alt: str
    caption: str = ""
    credit: str = ""


def img_html(figure: Figure, *, eager: bool, alt: str | None = None) -> str:
    """The `<img>`: lazy unless it is the page's first picture (its LCP element)."""
    srcset = ", ".join(f"{url} {w}w" for url, w in figure.srcset)
    loading = "eager" if eager else "lazy"
    return (
        f'<img src="{_attr(figure.src)}" srcset="{_attr(srcset)}" sizes="{SIZES}"'
        f' width="{figure.width}" height="{figure.height}"'
        f' alt="{_attr(figure.alt if alt is None else alt)}"'
        f' loading="{loading}" decoding="async">'
    )


def figure_html(
    figure: Figure, *, eager: bool, alt: str | None = None, caption: str | None = None
) -> str:
    """`<figure>` with the picture and, when there is one, a caption and a credit."""
    caption = figure.caption if caption is None else caption
    parts = [html.escape(caption)] if caption else []
    if figure.credit:
        parts.append(f'<span class="credit">Photo: {html.escape(figure.credit)}</span>')
    figcaption = f"<figcaption>{' '.join(parts)}</figcaption>" if parts else ""
    return f"<figure>{img_html(figure, eager=eager, alt=alt)}{figcaption}</figure>"


def with_figures(body_html: str, figures: Mapping[str, Figure], *, first_eager: bool) -> str:
    """The body with each `<img>` whose `src` names one of `figures` made a figure (alone in
    its paragraph) or a responsive `<img>` (inside text); the alt as written, the Markdown
    title as the caption. Other images are left as they are."""
    if not figures or "<img" not in body_html:
        return body_html
    eager = [first_eager]

    def picture(tag: str, *, alone: bool) -> str | None:
        attrs = {k: html.unescape(v or "") for k, v in _PAIR.findall(tag[4:])}
        figure = figures.get(attrs.get("src", "").removeprefix("./"))
        if figure is None:
            return None
        first, eager[0] = eager[0], False
        alt = attrs.get("alt", figure.alt)
        if alone:
            return figure_html(figure, eager=first, alt=alt, caption=attrs.get("title", ""))
        return img_html(figure, eager=first, alt=alt)

    def paragraph(match: re.Match[str]) -> str:
        return picture(match.group(1), alone=True) or match.group(0)

    def inline(match: re.Match[str]) -> str:
        return picture(match.group(0), alone=False) or match.group(0)

    # One pass over the body in document order, so "first" means first on the page.
    pattern = re.compile(f"{_ALONE.pattern}|{_IMG.pattern}")
    return pattern.sub(lambda m: paragraph(m) if m.group(1) else inline(m), body_html)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)
