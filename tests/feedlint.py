"""Test-side stand-in for the W3C Feed Validation Service, which CI cannot reach.

Re-implements the validator's rules that matter here: RSS 2.0 with the RSS Best Practices
Profile, Atom 1.0 (RFC 4287) with RFC 5005/6721, and JSON Feed 1.1 against
``jsonfeed-1.1.schema.json``.  Each lint function takes the feed as bytes and returns
problems as ``where: what [Rule]`` strings (Rule: the W3C message mirrored, or spec /
best practice / schema); W3C warnings count.  Usage: ``assert lint_rss(body) == []``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from html.entities import html5, name2codepoint
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
HISTORY = "http://purl.org/syndication/history/1.0"
MEDIA = "http://search.yahoo.com/mrss/"
XHTML = "http://www.w3.org/1999/xhtml"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
SCHEMA_PATH = Path(__file__).with_name("jsonfeed-1.1.schema.json")
# Namespaces the validator knows, by conventional prefix (a subset of its list).  A known
# prefix bound to another URI is a ReservedPrefix warning; any other namespace declared is
# an UnknownNamespace warning, RFC 6721 tombstones too (the validator does not know them):
# that one warning is accepted in a document that carries a tombstone, nowhere else.
KNOWN_PREFIXES = {
    "atom": ATOM, "content": CONTENT, "fh": HISTORY, "xhtml": XHTML,
    "dc": "http://purl.org/dc/elements/1.1/", "dcterms": "http://purl.org/dc/terms/",
    "media": "http://search.yahoo.com/mrss/", "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "slash": "http://purl.org/rss/1.0/modules/slash/", "wfw": "http://wellformedweb.org/CommentAPI/",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "georss": "http://www.georss.org/georss",
    "thr": "http://purl.org/syndication/thread/1.0", "svg": "http://www.w3.org/2000/svg",
}  # fmt: skip
LINK_RELS = set(  # registered link relations (RFC 4287, RFC 5005, WebSub, IANA)
    "alternate current describedby edit edit-media enclosure first hub last license next "  # noqa: SIM905
    "next-archive payment prev prev-archive previous related replies search self service "
    "up via".split()
)
PAGING_RELS = {"first", "last", "next", "previous", "prev", "prev-archive", "next-archive"}

_LANGTAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}(?:-[A-Za-z0-9]{1,8})*")  # RFC 5646-ish
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_TAG_URI = re.compile(r"tag:(?:[\w.+-]+@)?[A-Za-z0-9.-]+,\d{4}(?:-\d\d(?:-\d\d)?)?:[^\s#]*(#\S*)?")
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{1,31}:\S+", re.IGNORECASE)
_UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", re.IGNORECASE)
_MIME = re.compile(r"[\w.+-]+/[\w.+-]+(?:\s*;\s*[\w.+-]+=(?:\"[^\"]*\"|[\w.+-]+))*")
# The validator's HTMLValidator.htmltags: a text value holding an end tag of one of these
# is taken for HTML; an element of HTML not among them is "NotHtml".
HTML_TAGS = frozenset(
    "a abbr acronym address applet area article aside audio b base basefont bdi bdo big "  # noqa: SIM905
    "blockquote body br button canvas caption center cite code col colgroup command data "
    "datagrid datalist dd del details dfn dialog dir div dl dt em eventsource fieldset "
    "figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup "
    "hr html i iframe img input ins isindex kbd label legend li link m main mark map menu "
    "meta meter nav noframes noscript object ol optgroup option output p param picture pre "
    "progress q rp rt ruby s samp script section select slot small source span strike "
    "strong style sub summary sup table tbody td template textarea tfoot th thead time "
    "title tr track tt u ul var xmp plaintext embed comment listing video wbr".split()
)
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track "  # noqa: SIM905
    "wbr".split()
)
# Elements whose end tag HTML lets an enclosing end tag (or the end) imply.
_OPTIONAL_END = frozenset(
    "caption colgroup dd dt li optgroup option p rp rt tbody td tfoot th "  # noqa: SIM905
    "thead tr".split()
)
_END_TAG = re.compile(r"</(\w+)>")
_REFERENCE = re.compile(r"&(#?\w+)")
_XML_DECL = re.compile(
    rb"""(?:\xef\xbb\xbf)?<\?xml\s+version=["']1\.\d["'](?:\s+encoding=["']([\w.-]+)["'])?"""
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# RFC 822 as the validator accepts it without a warning, narrowed to the RSS Best Practices
# zones: four-digit year, seconds optional, zone "GMT" or +hhmm/-hhmm (mm 00 or 30).
_RFC822 = re.compile(
    r"(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug"
    r"|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d(?::\d\d)? (?:GMT|[+-]\d\d[03]0)"
)
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")

Problem = tuple[str, str] | None  # (what is wrong, rule name), or None when fine


class Problems(list[str]):
    """The lint result: a list of 'where: what [rule]' strings."""

    # The validator's "rssCharData": which source lines hold a hexadecimal character
    # reference ('&#x'), the RSS Best Practices Profile's sign that '&' and '<' on that
    # line are text (they silence ContainsHTML for references, and CharacterData).
    hex_lines: list[bool]

    def add(self, where: str, what: str, rule: str) -> None:
        self.append(f"{where}: {what} [{rule}]")

    def check(self, failed: object, where: str, what: str, rule: str) -> None:
        if failed:
            self.add(where, what, rule)

    def found(self, where: str, problem: Problem) -> None:
        if problem:
            self.add(where, *problem)


# --- value checks: each returns None or (what is wrong, rule) ------------------------------
def _uri(value: str, *, iri: bool = False) -> Problem:
    """Absolute URI (an IRI when iri=True); tag: and urn: syntax checked too."""
    if not _SCHEME.match(value):
        return f"{value!r} is not an absolute URI", "InvalidFullLink"
    ascii_part = "".join(c for c in value if ord(c) < 128) if iri else value
    if not _URI_CHARS.fullmatch(ascii_part) or re.search(r"%(?![0-9A-Fa-f]{2})", value):
        return f"{value!r} has characters not allowed in a URI", "InvalidUriChar"
    scheme = value.split(":", 1)[0].lower()
    if scheme in ("http", "https", "ftp") and not re.match(r"[^:]+://[^/?#\s]", value):
        return f"{value!r} has no host", "InvalidFullLink"
    if scheme == "tag" and not _TAG_URI.fullmatch(value):
        return f"{value!r} is not a valid tag: URI (RFC 4151)", "InvalidTAG"
    uuid = value.lower().startswith("urn:uuid:")
    if scheme == "urn" and not (_UUID_URN if uuid else _URN).fullmatch(value):
        return f"{value!r} is not a valid URN", "InvalidURN"
    return None


def _uri_ref(value: str) -> Problem:
    """A URI reference, which in Atom may be relative (resolved against xml:base)."""
    if _SCHEME.match(value):
        return _uri(value, iri=True)
    ok = _URI_CHARS.fullmatch(re.sub(r"[^\x00-\x7f]", "", value))
    return None if ok else (f"{value!r} has characters not allowed in a URI", "InvalidIRI")


def _nonblank(value: str) -> Problem:
    return None if value else ("must not be blank", "NotBlank")


def _integer(value: str) -> Problem:
    """A non-negative integer, as the validator wants an enclosure's length."""
    if value.startswith("-") and value[1:].isdigit():
        return f"{value!r} is negative", "InvalidNonNegativeInteger"
    ok = value.isdigit()
    return None if ok else (f"{value!r} is not an integer", "InvalidIntegerAttribute")


def _positive_int(value: str) -> Problem:
    ok = value.isdigit() and int(value) > 0
    return None if ok else (f"{value!r} is not a positive integer", "InvalidPositiveInteger")


def _language(value: str) -> Problem:
    ok = _LANGTAG.fullmatch(value)
    return None if ok else (f"{value!r} is not a language tag like 'en-US'", "InvalidLanguage")


def _plausible(when: datetime, value: str) -> Problem:
    if datetime(1990, 1, 1, tzinfo=UTC) <= when <= datetime.now(UTC) + timedelta(minutes=10):
        return None
    return f"{value!r} is before 1990 or in the future", "ImplausibleDate"


def _rfc822(value: str) -> Problem:
    """RFC 822 date: 4-digit year, zone GMT/+hhmm, a real date, the right day of week."""
    m = _RFC822.fullmatch(value)
    if not m:
        example = "'Wed, 02 Oct 2002 13:00:00 GMT' (zone GMT or +hhmm)"
        return f"{value!r} is not an RFC 822 date like {example}", "InvalidRFC2822Date"
    try:
        when = parsedate_to_datetime(value)
    except ValueError as exc:
        return f"{value!r} is not a real date and time ({exc})", "InvalidRFC2822Date"
    if m["dow"] and m["dow"] != _DAYS[when.weekday()]:
        return f"{value!r}: that day is a {_DAYS[when.weekday()]}", "IncorrectDOW"
    return _plausible(when, value)


def _rfc3339(value: str) -> tuple[datetime | None, Problem]:
    """The parsed date-time (None when invalid) and its problem."""
    if not _RFC3339.fullmatch(value):
        what = f"{value!r} is not an RFC 3339 date-time with zone, like '2002-10-02T10:00:00Z'"
        return None, (what, "InvalidRFC3339Date")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        return None, (f"{value!r} is not a real date and time ({exc})", "InvalidRFC3339Date")
    return when, _plausible(when, value)


# --- XML helpers ----------------------------------------------------------------------------
def _kids(el: etree._Element, ns: str | bool | None = False, name: str | None = None) -> list:
    """Element children; ns=False means any namespace, ns=None means no namespace."""
    pairs = ((kid, etree.QName(kid)) for kid in el.iterchildren(etree.Element))
    return [kid for kid, q in pairs if ns in (False, q.namespace) and name in (None, q.localname)]


def _text(el: etree._Element) -> str:
    return (el.text or "").strip()


def _lines(el: etree._Element) -> slice:
    """The source lines a text-only element spans (0-based, end exclusive)."""
    first = (el.sourceline or 1) - 1
    return slice(first, first + (el.text or "").count("\n") + 1)


def _has_base(el: etree._Element) -> bool:
    """An absolute xml:base is in scope, so relative references resolve."""
    return any(_SCHEME.match(a.get(XML_BASE, "")) for a in [el, *el.iterancestors()])


def _apply(parent: etree._Element, where: str, checks: dict, out: Problems) -> None:
    """Run value checks on no-namespace children (checks: child name -> check functions)."""
    for name, funcs in checks.items():
        for child in _kids(parent, None, name):
            for func in funcs:
                out.found(f"{where}/{name}", func(_text(child)))


class _HtmlRefs(HTMLParser):
    """Collects the href and src attribute values of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [(v or "").strip() for name, v in attrs if name in ("href", "src")]


def _check_html(html: str, where: str, out: Problems, *, base: bool = False) -> None:
    """No relative href/src references unless an absolute xml:base is in scope."""
    for ref in [] if base else _HtmlRefs(html).refs:
        out.check(not _SCHEME.match(ref), where, f"HTML has relative URL {ref!r}", "ContainsRelRef")


def _check_text(
    el: etree._Element, where: str, out: Problems, *, rule: str = "ContainsHTML", rss: bool = False
) -> None:
    """The validator's `nonhtml` for text: an HTML end tag in it, or (unless a line of the
    element holds '&#x') an HTML character reference; in RSS 2.0 also '&#' or '<' followed
    by a letter or '/' in it without a '&#x' on its lines (CharacterData)."""
    value = el.text or ""
    hexed = any(out.hex_lines[_lines(el)])
    tags = [t for t in _END_TAG.findall(value) if t.lower() in HTML_TAGS]
    refs = [
        name
        for name in _REFERENCE.findall(value)
        if name in name2codepoint or name == "apos" or not name.isalpha()
    ]
    if tags:
        out.add(where, f"text holds HTML (</{tags[0]}>): declare it, or escape it", rule)
    elif refs:
        what = f"text holds an HTML reference (&{refs[0]};): a reader decodes it"
        out.check(not hexed, where, what, rule)
    elif rss and re.search(r"&#[x0-9]|<[/a-zA-Z]", value):
        what = "write '&' and '<' in text as &#x26; and &#x3C; (RSS Best Practices Profile)"
        out.check(not hexed, where, what, "CharacterData")


class _HtmlCheck(HTMLParser):
    """Approximates the validator's NotHtml: it parses HTML with html5lib in strict mode,
    where any parse error (a '<' or '&' that starts nothing, an unknown reference, an
    element left open or closed twice) or an element not in HTML_TAGS is NotHtml."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.open: list[str] = []
        self._raw_checks(html)
        self.feed(html)
        self.close()
        left = [tag for tag in self.open if tag not in _OPTIONAL_END]
        if left:
            self.problems.append(f"<{left[-1]}> is never closed")

    def _raw_checks(self, html: str) -> None:
        text = re.sub(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", "", html, flags=re.S | re.I)
        for m in re.finditer(r"<(?![A-Za-z]|/[A-Za-z]|!--)", text):
            self.problems.append(f"{text[m.start() : m.start() + 6]!r}: '<' starts no tag")
        for m in re.finditer(r"&(?![\s<&]|$)", text):
            rest = text[m.end() : m.end() + 40]
            if rest.startswith("#"):
                ok = re.match(r"#(?:[0-9]+|[xX][0-9a-fA-F]+);", rest)
                what = "is not a numeric character reference like &#38;"
            else:
                run = re.match(r"[A-Za-z0-9]*;?", rest).group(0)
                name = next((run[:n] for n in range(len(run), 0, -1) if run[:n] in html5), "")
                ok = name.endswith(";")
                what = "names no character reference (write &amp; for '&')"
            if not ok:
                self.problems.append(f"'&{rest[:8]}' {what}")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in HTML_TAGS:
            self.problems.append(f"<{tag}> is not an HTML element")
        if tag not in _VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag not in HTML_TAGS:
            self.problems.append(f"<{tag}> is not an HTML element")
        elif tag not in _VOID_TAGS:
            self.problems.append(f"<{tag}/>: only a void element may close itself")

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.open:
            self.problems.append(f"</{tag}> closes nothing")
            return
        while (inner := self.open.pop()) != tag:
            if inner not in _OPTIONAL_END:
                self.problems.append(f"</{tag}> closes <{inner}>, which is still open")


def _check_not_html(html: str, where: str, out: Problems) -> None:
    for problem in _HtmlCheck(html).problems[:1]:
        out.add(where, f"not HTML: {problem}", "NotHtml")


def _parse_xml(data: bytes, out: Problems) -> etree._Element | None:
    """Well-formed, UTF-8 declared, no undefined or misbound namespace prefixes."""
    if not isinstance(data, bytes):
        raise TypeError("feedlint takes the serialized feed as bytes")
    decl = _XML_DECL.match(data)
    declared = decl.group(1).decode() if decl and decl.group(1) else "nothing"
    out.hex_lines = [b"&#x" in line for line in data.split(b"\n")]
    what = f'XML declaration must say encoding="UTF-8", not {declared}'
    out.check(declared.lower() != "utf-8", "document", what, "NotUTF8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        undefined = [e for e in parser.error_log if e.type_name == "NS_ERR_UNDEFINED_NAMESPACE"]
        for error in undefined:
            out.add("document", f"undefined namespace: {error.message}", "MissingNamespace")
        out.check(not undefined, "document", f"not well-formed XML: {exc}", "SAXError")
        return None
    known = set(KNOWN_PREFIXES.values())
    if next(root.iter(f"{{{TOMBSTONES}}}deleted-entry"), None) is not None:
        known.add(TOMBSTONES)  # the accepted UnknownNamespace (see KNOWN_PREFIXES)
    bindings = {pair for el in root.iter(etree.Element) for pair in el.nsmap.items()}
    for prefix, uri in sorted(((p, u) for p, u in bindings if u not in known), key=str):
        reserved = prefix in KNOWN_PREFIXES
        what = f"prefix {prefix!r} is bound to {uri!r}, not {KNOWN_PREFIXES.get(prefix)!r}"
        out.check(reserved, "document", what, "ReservedPrefix")
        out.check(not reserved, "document", f"unknown namespace {uri!r}", "UnknownNamespace")
    return root


# --- RSS 2.0 --------------------------------------------------------------------------------
_CHANNEL_KIDS = set(
    "title link description language copyright managingEditor webMaster pubDate category "  # noqa: SIM905
    "lastBuildDate generator docs cloud ttl image rating textInput skipHours skipDays item".split()
)
_ITEM_KIDS = set("title link description author category comments enclosure guid".split())  # noqa: SIM905
_ITEM_KIDS |= {"pubDate", "source"}
# element -> (allowed no-namespace children, children that may repeat, required children)
_RSS_VOCABULARY = {
    "channel": (_CHANNEL_KIDS, {"category", "item"}, ("title", "link", "description")),
    # A second enclosure is the validator's DuplicateEnclosure (_check_rss_item).
    "item": (_ITEM_KIDS, {"category", "enclosure"}, ()),
    "image": ({"url", "title", "link", "width", "height", "description"}, (), ("url", "title")),
    "textInput": ({"title", "description", "name", "link"}, (), ("title", "name", "link")),
    "skipHours": ({"hour"}, {"hour"}, ()),
    "skipDays": ({"day"}, {"day"}, ()),
    "cloud": (set(), (), ()),
}
_CHANNEL_CHECKS = {
    "title": (_nonblank,), "link": (_uri,),
    "language": (_language,), "ttl": (_positive_int,), "pubDate": (_rfc822,),
    "lastBuildDate": (_rfc822,), "docs": (_uri,), "category": (_nonblank,),
}  # fmt: skip
_ITEM_CHECKS = {
    "title": (_nonblank,), "link": (_uri,), "comments": (_uri,), "pubDate": (_rfc822,),
    "category": (_nonblank,),
}  # fmt: skip


def lint_rss(data: bytes) -> list[str]:
    """W3C errors and warnings for an RSS 2.0 feed under the RSS Best Practices Profile."""
    out = Problems()
    root = _parse_xml(data, out)
    if root is None or root.tag != "rss":
        what = f'root is {getattr(root, "tag", None)!r}, not <rss version="2.0">'
        out.check(root is not None, "document", what, "UndefinedElement")
        return out
    version = root.get("version")
    out.check(version != "2.0", "rss", f"version is {version!r}, not '2.0'", "InvalidRSSVersion")
    for child in _kids(root):
        out.check(child.tag != "channel", "rss", f"unexpected <{child.tag}>", "UndefinedElement")
    channels = _kids(root, None, "channel")
    what = f"needs exactly one <channel>, has {len(channels)}"
    out.check(len(channels) != 1, "rss", what, "DuplicateElement")
    if not channels:
        return out
    channel = channels[0]
    _check_rss_vocabulary(channel, "channel", out)
    _check_rss_channel(channel, out)
    guids: dict[str, str] = {}
    for number, item in enumerate(_kids(channel, None, "item"), start=1):
        _check_rss_item(item, f"item {number}", guids, out)
    return out


def _check_rss_vocabulary(el: etree._Element, where: str, out: Problems) -> None:
    """Only RSS 2.0 elements in no namespace; the required ones; no repeated singletons."""
    allowed, repeatable, required = _RSS_VOCABULARY.get(el.tag, (set(), (), ()))
    counts: Counter[str] = Counter()
    for child in _kids(el, None):
        counts[child.tag] += 1
        label = f"item {counts['item']}" if child.tag == "item" else f"{where}/{child.tag}"
        if child.tag not in allowed:
            out.add(where, f"<{child.tag}> is not an RSS 2.0 element here", "UndefinedElement")
            continue
        _check_rss_vocabulary(child, label, out)  # text-only elements allow no RSS children
    for name in required:
        out.check(not counts[name], where, f"missing required <{name}>", "MissingElement")
    for name, count in counts.items():
        repeated = count > 1 and name in allowed and name not in repeatable
        out.check(repeated, where, f"<{name}> appears {count} times", "DuplicateElement")


def _check_rss_channel(channel: etree._Element, out: Problems) -> None:
    """Channel values and atom:link rel="self" (plus any other atom:link)."""
    _apply(channel, "channel", _CHANNEL_CHECKS, out)
    for name in ("title", "description"):
        for el in _kids(channel, None, name):
            _check_text(el, f"channel/{name}", out, rss=True)
    links = _kids(channel, ATOM, "link")
    for link in links:
        _check_atom_link(link, "channel", out)
    selves = [link for link in links if link.get("rel") == "self"]
    what = 'missing <atom:link rel="self" type="application/rss+xml" href="...">'
    out.check(not selves, "channel", what, "MissingAtomSelfLink")
    for kind in (link.get("type") for link in selves):
        what = f"self link type is {kind!r}, not 'application/rss+xml'"
        out.check(kind != "application/rss+xml", "channel", what, "SelfNotAtom")


def _check_rss_item(item: etree._Element, where: str, guids: dict, out: Problems) -> None:
    """Item values, HTML references, enclosure and source URLs, and the guid."""
    empty = not (_kids(item, None, "title") or _kids(item, None, "description"))
    out.check(empty, where, "needs <title> or <description>", "ItemMustContainTitleOrDescription")
    _apply(item, where, _ITEM_CHECKS, out)
    for el in _kids(item, None, "title"):
        _check_text(el, f"{where}/title", out, rss=True)
    for el in _kids(item, None, "description"):  # HTML (RSS 2.0), as is content:encoded
        _check_html(el.text or "", f"{where}/description", out)
        _check_not_html(el.text or "", f"{where}/description", out)
    for el in _kids(item, CONTENT, "encoded"):
        _check_html(el.text or "", f"{where}/content:encoded", out)
        _check_not_html(el.text or "", f"{where}/content:encoded", out)
        what = "<content:encoded> without <description>"
        out.check(not _kids(item, None, "description"), where, what, "NeedDescriptionBeforeContent")
    for link in _kids(item, ATOM, "link"):
        _check_atom_link(link, where, out, in_entry=True)
    for source in _kids(item, None, "source"):
        out.found(f"{where}/source", _uri(source.get("url", "")))
    enclosures = _kids(item, None, "enclosure")
    for enclosure in enclosures:
        _check_rss_enclosure(enclosure, f"{where}/enclosure", out)
    what = f"{len(enclosures)} enclosures: RSS allows one an item"
    out.check(len(enclosures) > 1, where, what, "DuplicateEnclosure")
    for el in item.iter(f"{{{MEDIA}}}*"):
        _check_media_rss(el, f"{where}/media:{etree.QName(el).localname}", out)
    _check_rss_guid(item, where, guids, out)


def _check_rss_enclosure(enclosure: etree._Element, where: str, out: Problems) -> None:
    """url (absolute), length (bytes, an integer) and type, all required (RSS 2.0)."""
    for name in ("url", "length", "type"):
        what = f"missing {name} attribute"
        out.check(not enclosure.get(name), where, what, "MissingAttribute")
    if enclosure.get("url"):
        out.found(where, _uri(enclosure.get("url", "")))
    if enclosure.get("length"):
        out.found(where, _integer(enclosure.get("length", "")))
    kind = enclosure.get("type", "")
    out.check(kind and not _MIME.fullmatch(kind), where, f"{kind!r}", "InvalidMIMEType")


# Media RSS 1.5.1 (https://www.rssboard.org/media-rss) as the validator checks it: the
# attributes each element may have, and what their values must be.
_MEDIA_ATTRIBUTES = {
    "content": set(
        "bitrate channels duration expression fileSize framerate height isDefault lang "  # noqa: SIM905
        "medium samplingrate type url width".split()
    ),
    "thumbnail": {"height", "time", "url", "width"},
    "description": {"type"},
    "title": {"type"},
}
_MEDIA_MEDIUMS = {"image", "audio", "video", "document", "executable"}


def _check_media_rss(el: etree._Element, where: str, out: Problems) -> None:
    name = etree.QName(el).localname
    for attr in sorted(set(el.attrib) - _MEDIA_ATTRIBUTES.get(name, set(el.attrib))):
        out.add(where, f"unexpected attribute {attr!r}", "UnexpectedAttribute")
    if name in ("content", "thumbnail"):
        url = el.get("url")
        required = name == "thumbnail" or el.getparent().tag != f"{{{MEDIA}}}group"
        out.check(url is None and required, where, "missing url attribute", "MissingAttribute")
        if url is not None:
            out.found(where, _uri(url))
    for attr in ("fileSize", "bitrate", "channels") if name == "content" else ():
        if el.get(attr) is not None:
            out.found(f"{where} {attr}", _integer(el.get(attr, "")))
    for attr in ("width", "height"):
        if el.get(attr) is not None:
            check = _positive_int if name == "thumbnail" else _integer
            out.found(f"{where} {attr}", check(el.get(attr, "")))
    medium = el.get("medium")
    what = f"medium {medium!r} is not one of {sorted(_MEDIA_MEDIUMS)}"
    out.check(
        medium is not None and medium not in _MEDIA_MEDIUMS, where, what, "InvalidMediaMedium"
    )
    kind = el.get("type")
    if name in ("description", "title"):
        what = f"type {kind!r} is not plain or html"
        out.check(kind not in (None, "plain", "html"), where, what, "InvalidMediaTextType")
        if kind == "html":
            _check_html(el.text or "", where, out)
        else:
            _check_text(el, where, out, rule="ContainsUndeclaredHTML")
    elif kind is not None:
        out.check(not _MIME.fullmatch(kind), where, f"type {kind!r}", "InvalidMIMEType")


def _check_rss_guid(item: etree._Element, where: str, guids: dict, out: Problems) -> None:
    """Present, unique, and isPermaLink="false" unless it is a URL."""
    found = _kids(item, None, "guid")
    if not found:
        out.add(where, "missing <guid>", "MissingGuid")
        return
    value, permalink, label = _text(found[0]), found[0].get("isPermaLink", "true"), f"{where}/guid"
    not_url = _uri(value) or value.lower().startswith(("tag:", "urn:"))
    what = f'{value!r} is not a URL, so it needs isPermaLink="false"'
    out.check(value and permalink == "true" and not_url, label, what, "InvalidPermalink")
    out.found(label, _nonblank(value))
    what = f"{value!r} is also the guid of {guids.get(value)}"
    out.check(value and value in guids, label, what, "DuplicateValue")
    guids.setdefault(value, where)


# --- Atom 1.0 -------------------------------------------------------------------------------
_FEED_KIDS = set("author category contributor generator icon id link logo rights".split())  # noqa: SIM905
_FEED_KIDS |= {"subtitle", "title", "updated"}
_ENTRY_KIDS = set("author category content contributor id link published rights".split())  # noqa: SIM905
_ENTRY_KIDS |= {"source", "summary", "title", "updated"}
_SINGLE = set("id title updated published subtitle rights icon logo generator".split())  # noqa: SIM905
_SINGLE |= {"content", "summary", "source"}
_SELF_TYPES = {"application/atom+xml", "application/rss+xml", "application/rdf+xml"}


def lint_atom(data: bytes) -> list[str]:
    """W3C errors and warnings for an Atom 1.0 feed, plus RFC 4287/5005/6721 rules."""
    out = Problems()
    root = _parse_xml(data, out)
    if root is None:
        return out
    if root.tag != f"{{{ATOM}}}feed":
        out.add("document", f"root is {root.tag!r}, not an Atom <feed>", "UndefinedElement")
        return out
    bindings = {pair for el in root.iter(etree.Element) for pair in el.nsmap.items()}
    for prefix in sorted(p for p, uri in bindings if p and uri in (ATOM, XHTML)):
        what = f"bind Atom/XHTML as the default namespace, not as {prefix}:"
        out.add("document", what, "AvoidNamespacePrefix")
    _check_atom_children(root, "feed", _FEED_KIDS | {"entry"}, out)
    _check_atom_feed(root, out)
    seen: dict[tuple[str, str], str] = {}
    for number, entry in enumerate(_kids(root, ATOM, "entry"), start=1):
        _check_atom_entry(entry, f"entry {number}", seen, out)
    _check_atom_extensions(root, out)
    return out


def _check_atom_children(el: etree._Element, where: str, allowed: set, out: Problems) -> None:
    """Vocabulary, required and single-valued children, and each child (feed/entry/source)."""
    counts = Counter(etree.QName(child).localname for child in _kids(el, ATOM))
    for name in sorted(set(counts) - allowed):
        out.add(where, f"<{name}> is not an Atom element here", "UndefinedElement")
    for name in ("id", "title", "updated") if etree.QName(el).localname != "source" else ():
        out.check(not counts[name], where, f"missing required <{name}>", "MissingElement")
    for name, count in counts.items():
        repeated = count > 1 and name in _SINGLE
        out.check(repeated, where, f"<{name}> appears {count} times", "DuplicateElement")
    for child in _kids(el, ATOM):
        name, text = etree.QName(child).localname, _text(child)
        label = f"{where}/{name}"
        if name == "link":
            _check_atom_link(child, where, out, in_entry=etree.QName(el).localname == "entry")
        elif name in ("title", "subtitle", "rights", "summary", "content"):
            _check_text_construct(child, label, out)
        elif name in ("updated", "published"):
            out.found(label, _rfc3339(text)[1])
        elif name == "id":
            out.found(label, _uri(text, iri=True))
        elif name in ("author", "contributor"):
            names = _kids(child, ATOM, "name")
            unnamed = len(names) != 1 or not _text(names[0])
            out.check(unnamed, label, "needs exactly one non-blank <name>", "MissingElement")
        elif name == "category":
            out.check(not child.get("term", "").strip(), label, "missing term", "MissingAttribute")
        elif name == "source":
            _check_atom_children(child, label, _FEED_KIDS, out)


def _check_atom_feed(feed: etree._Element, out: Problems) -> None:
    """Self and alternate links, and an author on the feed or on every entry."""
    rels = {link.get("rel", "alternate") for link in _kids(feed, ATOM, "link")}
    out.check("self" not in rels, "feed", 'missing <link rel="self" href="..."/>', "MissingSelf")
    what = 'missing <link rel="alternate"/> to the HTML page'
    out.check("alternate" not in rels, "feed", what, "best practice")
    authored, entries = bool(_kids(feed, ATOM, "author")), _kids(feed, ATOM, "entry")
    out.check(not authored and not entries, "feed", "missing <author>", "MissingElement")
    for number, entry in enumerate(entries, start=1):
        sources = [entry, *_kids(entry, ATOM, "source")]
        missing = not (authored or any(_kids(el, ATOM, "author") for el in sources))
        out.check(missing, f"entry {number}", "no <author> here nor on <feed>", "MissingElement")


def _check_atom_entry(entry: etree._Element, where: str, seen: dict, out: Problems) -> None:
    """Content or alternate link, summary when needed, dates in order, unique ids."""
    _check_atom_children(entry, where, _ENTRY_KIDS, out)
    content, summary = _kids(entry, ATOM, "content"), _kids(entry, ATOM, "summary")
    rels = {link.get("rel", "alternate") for link in _kids(entry, ATOM, "link")}
    what = 'needs <content> or <link rel="alternate">'
    out.check(not content and "alternate" not in rels, where, what, "MissingContentOrAlternate")
    what = "has neither <content> nor <summary>"
    out.check(not content and not summary, where, what, "MissingTextualContent")
    remote = content and content[0].get("src") is not None
    out.check(remote and not summary, where, "<content src> needs a <summary>", "MissingSummary")
    updated = ([_text(el) for el in _kids(entry, ATOM, "updated")] or [""])[0]
    published = ([_text(el) for el in _kids(entry, ATOM, "published")] or [""])[0]
    last, first = _rfc3339(updated)[0], _rfc3339(published)[0]
    out.check(last and first and last < first, where, "<updated> is before <published>", "spec")
    # The validator keeps the ids and the updated values of a feed's entries apart: two
    # entries (any two) with one updated value are DuplicateUpdated.
    for key in [_text(el) for el in _kids(entry, ATOM, "id")][:1]:
        what = f"id {key!r} is also used by {seen.get(('id', key))}"
        out.check(("id", key) in seen, where, what, "DuplicateEntries")
        seen.setdefault(("id", key), where)
    if updated:
        what = f"updated {updated!r} is also that of {seen.get(('updated', updated))}"
        out.check(("updated", updated) in seen, where, what, "DuplicateUpdated")
        seen.setdefault(("updated", updated), where)


def _check_atom_link(link: etree._Element, where: str, out: Problems, *, in_entry=False) -> None:
    """One atom:link, in Atom or as an RSS extension: href, rel, type."""
    rel = link.get("rel", "alternate").removeprefix("http://www.iana.org/assignments/relation/")
    kind, href, where = link.get("type", ""), link.get("href"), f"{where} link rel={rel!r}"
    out.found(where, ("missing href", "MissingHref") if href is None else _uri_ref(href))
    relative = href and rel == "self" and not in_entry and not _SCHEME.match(href)
    out.check(relative and not _has_base(link), where, f"href {href!r} is relative", "RelativeSelf")
    what = "rel is neither registered nor an absolute IRI"
    out.check(rel not in LINK_RELS and _uri(rel, iri=True), where, what, "UnregisteredAtomLinkRel")
    what = f"type {kind!r} is not a MIME type"
    out.check(kind and not _MIME.fullmatch(kind), where, what, "InvalidMIMEType")
    if link.get("length") is not None:  # RFC 4287 4.2.7.6: octets
        out.found(where, _integer(link.get("length", "")))
    what = "an enclosure link needs a type (RFC 4287 4.2.7.3)"
    out.check(rel == "enclosure" and not kind, where, what, "NoMIMEType")
    what = f"type {kind!r} is not a feed type"
    not_feed = rel == "self" and kind and kind.split(";")[0].strip() not in _SELF_TYPES
    out.check(not_feed, where, what, "SelfNotAtom")


def _check_text_construct(el: etree._Element, where: str, out: Problems) -> None:
    """type text/html/xhtml; content may instead be a MIME type or point elsewhere (src)."""
    kind, kids, name = el.get("type", "text"), _kids(el), etree.QName(el).localname
    if name == "content" and el.get("src") is not None:
        out.check(_text(el) or kids, where, "content with src must be empty", "spec")
        return
    if kind == "xhtml":
        one_div = len(kids) == 1 and kids[0].tag == f"{{{XHTML}}}div" and not _text(el)
        out.check(not one_div, where, "type=xhtml needs exactly one xhtml:div", "MissingXhtmlDiv")
        for div in kids:
            _check_html(etree.tostring(div, encoding="unicode"), where, out, base=_has_base(el))
    elif kind in ("text", "html"):
        what = f"type={kind} contains elements: escape the markup"
        out.check(kids, where, what, "UndefinedElement")
        if kind == "html":
            _check_html(el.text or "", where, out, base=_has_base(el))
            _check_not_html(el.text or "", where, out)
        else:
            _check_text(el, where, out, rule="ContainsUndeclaredHTML")
    else:
        what = f"type {kind!r} is not text, html, xhtml (or, for content, a MIME type)"
        out.check(name != "content" or not _MIME.fullmatch(kind), where, what, "InvalidTextType")
    blank = not _text(el) and not kids and name in ("title", "summary", "content")
    out.check(blank, where, "must not be blank", "NotBlank")


def _check_atom_extensions(feed: etree._Element, out: Problems) -> None:
    """RFC 5005 fh:complete/fh:archive and RFC 6721 at:deleted-entry, on the feed only."""
    marks = list(feed.iter(f"{{{HISTORY}}}*"))
    for el in marks:
        name = etree.QName(el).localname
        bad = name not in ("complete", "archive") or el.getparent() is not feed
        what = "only an empty fh:complete or fh:archive child of <feed> is allowed"
        out.check(bad or _text(el) or len(el), f"fh:{name}", what, "UndefinedElement")
    if any(etree.QName(el).localname == "complete" for el in marks):
        for rel in (link.get("rel") for link in _kids(feed, ATOM, "link")):
            what = f"complete feed has a rel={rel!r} link"
            out.check(rel in PAGING_RELS, "feed", what, "FeedRelInCompleteFeed")
    for el in feed.iter(f"{{{TOMBSTONES}}}*"):
        name, parent = etree.QName(el).localname, el.getparent()
        if name in ("by", "comment") and parent.tag == f"{{{TOMBSTONES}}}deleted-entry":
            continue
        if name != "deleted-entry" or parent is not feed:
            out.add(f"at:{name}", "not allowed here (RFC 6721)", "UndefinedElement")
            continue
        ref, when = el.get("ref"), el.get("when")
        missing = ("attribute is missing", "MissingAttribute")
        out.found("at:deleted-entry ref", missing if ref is None else _uri(ref, iri=True))
        out.found("at:deleted-entry when", missing if when is None else _rfc3339(when)[1])


# --- JSON Feed 1.1 --------------------------------------------------------------------------
@cache
def _json_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def lint_json_feed(data: bytes) -> list[str]:
    """Problems against jsonfeed-1.1.schema.json, plus checks the schema cannot express."""
    if not isinstance(data, bytes):
        raise TypeError("feedlint takes the serialized feed as bytes")
    out = Problems()
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        out.add("document", f"not valid UTF-8 JSON: {exc}", "spec")
        return out
    errors = _json_validator().iter_errors(doc)
    for error in sorted(errors, key=lambda e: [str(part) for part in e.absolute_path]):
        where = "/".join(str(part) for part in error.absolute_path) or "feed"
        hint = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
        what = {"pattern": f"{error.instance!r} is not {hint}", "anyOf": hint} if hint else {}
        what["additionalProperties"] = f"unknown key (extensions are _name): {error.message}"
        out.add(where, what.get(error.validator, error.message), "schema")
    if isinstance(doc, dict):
        _check_json_feed(doc, out)
    return out


def _check_json_feed(doc: dict, out: Problems) -> None:
    """Deprecated author, next_url loop, unique ids, real and plausible dates, HTML refs."""
    deprecated = '"author" is deprecated in JSON Feed 1.1: use "authors"'
    out.check("author" in doc, "feed", deprecated, "spec")
    looped = doc.get("next_url") is not None and doc.get("next_url") == doc.get("feed_url")
    out.check(looped, "feed", "next_url must differ from feed_url", "spec")
    ids: dict[str, str] = {}
    items = doc["items"] if isinstance(doc.get("items"), list) else []
    for where, item in ((f"items/{n}", item) for n, item in enumerate(items)):
        if not isinstance(item, dict):
            continue
        out.check("author" in item, where, deprecated, "spec")
        if isinstance(key := item.get("id"), str):
            what = f"id {key!r} is also used by {ids.get(key)}"
            out.check(key in ids, where, what, "DuplicateValue")
            ids.setdefault(key, where)
        for name in ("date_published", "date_modified"):  # the schema checks the syntax
            if isinstance(item.get(name), str) and _RFC3339.fullmatch(item[name]):
                out.found(f"{where}/{name}", _rfc3339(item[name])[1])
        if isinstance(item.get("content_html"), str):
            _check_html(item["content_html"], f"{where}/content_html", out)
