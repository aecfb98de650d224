"""Test-side feed linter standing in for the W3C Feed Validation Service.

The W3C validator cannot be reached from here, so this module re-implements the rules
of it that matter for the feeds feedsvc publishes (RSS 2.0 with the RSS Best Practices
Profile, Atom 1.0 with RFC 5005/6721 extensions), plus JSON Feed 1.1 checked against
``jsonfeed-1.1.schema.json``.  Each lint function takes the feed as bytes and returns a
list of human-readable problems, empty when the feed is clean::

    assert feedlint.lint_rss(body) == []

Every message ends with the name of the W3C message it mirrors in brackets, or with
[spec] / [best practice] / [JSON Feed 1.1 schema] when the rule comes from elsewhere.
W3C warnings are reported too: the goal is a feed the validator passes without any.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
HISTORY = "http://purl.org/syndication/history/1.0"
XHTML = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
SCHEMA_PATH = Path(__file__).with_name("jsonfeed-1.1.schema.json")

# Namespaces the validator knows, with their conventional prefixes (a subset of its list,
# plus RFC 6721 tombstones, which it does not list but which we publish).
KNOWN_NAMESPACES = {
    ATOM: "atom",
    CONTENT: "content",
    DC: "dc",
    DCTERMS: "dcterms",
    "http://search.yahoo.com/mrss/": "media",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://wellformedweb.org/CommentAPI/": "wfw",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://purl.org/syndication/thread/1.0": "thr",
    "http://www.georss.org/georss": "georss",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://www.w3.org/2000/svg": "svg",
    "http://www.w3.org/1998/Math/MathML": "mathml",
    "http://www.w3.org/1999/xlink": "xlink",
    "http://webns.net/mvcb/": "admin",
    HISTORY: "fh",
    TOMBSTONES: "at",
    XHTML: "xhtml",
    XML_NS: "xml",
}
_RESERVED_PREFIXES = {prefix: uri for uri, prefix in KNOWN_NAMESPACES.items()}

_ISO639_1 = set(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
    "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
    "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
    "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
    "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
    "vi vo wa wo xh yi yo za zh zu".split()
)
_LANGTAG = re.compile(
    r"(?P<primary>[A-Za-z]{2,3})(?:-[A-Za-z]{3}){0,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*(?:-[0-9A-WYZa-wyz](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-x(?:-[A-Za-z0-9]{1,8})+)?"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_TAG_URI = re.compile(
    r"tag:(?:[\w.+-]+@)?[A-Za-z0-9.-]+,\d{4}(?:-\d\d(?:-\d\d)?)?:[^\s#]*(?:#\S*)?"
)
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{1,31}:\S+", re.IGNORECASE)
_UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+'-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+")
_MIME = re.compile(r"[\w.+-]+/[\w.+-]+(?:\s*;\s*[\w.+-]+=(?:\"[^\"]*\"|[\w.+-]+))*")
_HTML_END_TAG = re.compile(
    r"</(?:a|abbr|b|blockquote|br|code|div|em|h[1-6]|i|li|ol|p|pre|span|strong|table|td|tr|u|ul)>",
    re.IGNORECASE,
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# RFC 822 as the validator accepts it without warnings, narrowed to the RSS Best Practices
# zones: four-digit year, seconds optional, zone "GMT" or a numeric +hhmm/-hhmm offset.
_RFC822 = re.compile(
    r"(?:(?P<dow>[A-Z][a-z]{2}), )?(?P<day>\d{1,2}) (?P<mon>[A-Z][a-z]{2}) (?P<year>\d{4}) "
    r"(?P<hh>\d\d):(?P<mm>\d\d)(?::(?P<ss>\d\d))? (?P<zone>GMT|[+-]\d\d[03]0)"
)
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_LINK_RELS = {
    "alternate", "current", "describedby", "edit", "edit-media", "enclosure", "first", "hub",
    "last", "license", "next", "next-archive", "payment", "prev", "prev-archive", "previous",
    "related", "replies", "search", "self", "service", "up", "via",
}  # fmt: skip
_PAGING_RELS = {"first", "last", "next", "previous", "prev", "prev-archive", "next-archive"}
_UNSAFE_TAGS = {
    "applet", "base", "basefont", "embed", "frame", "frameset", "iframe", "link", "meta",
    "noframes", "object", "param", "script", "style",
}  # fmt: skip

Check = Callable[[str], str | None]


# --- shared value checks: each returns None when fine, else what is wrong -------------------


def _uri_problem(value: str, *, iri: bool = False) -> str | None:
    """Absolute URI (absolute IRI when iri=True), with tag:/urn: syntax checked."""
    if not _SCHEME.match(value):
        return f"{value!r} is not an absolute URI (it has no scheme)"
    ascii_only = "".join(c for c in value if ord(c) < 128) if iri else value
    if not _URI_CHARS.fullmatch(ascii_only) or re.search(r"%(?![0-9A-Fa-f]{2})", value):
        return f"{value!r} contains characters that are not allowed in a URI"
    scheme = value.split(":", 1)[0].lower()
    try:
        host = urlsplit(value).hostname
    except ValueError:
        host = None
    if scheme in ("http", "https", "ftp") and not host:
        return f"{value!r} has no host"
    if scheme == "tag" and not _TAG_URI.fullmatch(value):
        return f"{value!r} is not a valid tag: URI (RFC 4151) [InvalidTAG]"
    uuid = value.lower().startswith("urn:uuid:")
    if scheme == "urn" and not (_UUID_URN if uuid else _URN).fullmatch(value):
        return f"{value!r} is not a valid URN [InvalidURN]"
    return None


def _uri_ref_problem(value: str) -> str | None:
    """A URI reference, which may be relative (Atom resolves it against xml:base)."""
    if _SCHEME.match(value):
        return _uri_problem(value, iri=True)
    if not _URI_CHARS.fullmatch("".join(c for c in value if ord(c) < 128)):
        return f"{value!r} contains characters that are not allowed in a URI"
    return None


def _absolute(value: str) -> str | None:
    problem = _uri_problem(value)
    return problem and f"{problem} [InvalidFullLink]"


def _nonblank(value: str) -> str | None:
    return None if value else "must not be blank [NotBlank]"


def _plain(value: str) -> str | None:
    match = _HTML_END_TAG.search(value)
    return match and f"plain-text value contains HTML markup ({match.group(0)}) [ContainsHTML]"


def _positive_int(value: str) -> str | None:
    ok = value.isdigit() and int(value) > 0
    return None if ok else f"{value!r} is not a positive integer [InvalidPositiveInteger]"


def _language(value: str) -> str | None:
    match = _LANGTAG.fullmatch(value)
    if match and (len(match["primary"]) == 3 or match["primary"].lower() in _ISO639_1):
        return None
    return f"{value!r} is not an RFC 5646 language tag such as 'en' or 'en-US' [InvalidLanguage]"


def _email(value: str) -> str | None:
    """RSS author/managingEditor/webMaster: 'jane@example.com (Jane Doe)'."""
    if re.fullmatch(rf"{_EMAIL.pattern} \(.+\)", value):
        return None
    if _EMAIL.fullmatch(value):
        return f"{value!r} lacks a real name; use 'addr@example.com (Name)' [MissingRealName]"
    if "@" in value:
        return f"{value!r} should be formatted 'addr@example.com (Name)' [EmailFormat]"
    return f"{value!r} is not an e-mail address [InvalidContact]"


def _implausible(when: datetime, value: str) -> str | None:
    if when < datetime(1990, 1, 1, tzinfo=UTC) or when > datetime.now(UTC) + timedelta(minutes=10):
        return f"{value!r} is implausible: before 1990 or in the future [ImplausibleDate]"
    return None


def _rfc822(value: str) -> str | None:
    match = _RFC822.fullmatch(value)
    if not match or match["mon"] not in _MONTHS or (match["dow"] and match["dow"] not in _DAYS):
        return (
            f"{value!r} is not an RFC 822 date like 'Wed, 02 Oct 2002 13:00:00 GMT' "
            "(four-digit year, zone GMT or +hhmm) [InvalidRFC2822Date]"
        )
    zone = match["zone"]
    sign = -1 if zone.startswith("-") else 1
    offset = (
        timedelta(0)
        if zone == "GMT"
        else sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:]))
    )
    try:
        fields = (match["year"], _MONTHS.index(match["mon"]) + 1, match["day"])
        clock = (match["hh"], match["mm"], match["ss"] or 0)
        when = datetime(*map(int, fields + clock), tzinfo=timezone(offset))
    except ValueError as exc:
        return f"{value!r} is not a real date and time ({exc}) [InvalidRFC2822Date]"
    if match["dow"] and match["dow"] != _DAYS[when.weekday()]:
        return (
            f"{value!r}: that date is a {_DAYS[when.weekday()]}, not {match['dow']} [IncorrectDOW]"
        )
    return _implausible(when, value)


def _rfc3339(value: str) -> tuple[datetime | None, str | None]:
    """The parsed date (when valid) and what is wrong with it."""
    if not _RFC3339.fullmatch(value):
        hint = "such as '2002-10-02T10:00:00Z', with a time zone"
        return None, f"{value!r} is not an RFC 3339 date-time {hint} [InvalidRFC3339Date]"
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        return None, f"{value!r} is not a real date and time ({exc}) [InvalidRFC3339Date]"
    return when, _implausible(when, value)


def _date3339(value: str) -> str | None:
    return _rfc3339(value)[1]


# --- XML helpers -----------------------------------------------------------------------------


def _kids(el: etree._Element, ns: str | None | bool = False, name: str | None = None) -> list:
    """Element children; ns=False means any namespace, None means no namespace."""
    found = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if (ns is False or qname.namespace == ns) and name in (None, qname.localname):
            found.append(child)
    return found


def _text(el: etree._Element) -> str:
    return (el.text or "").strip()


def _has_base(el: etree._Element) -> bool:
    """True when an absolute xml:base is in scope, so relative references resolve."""
    scope = [el, *el.iterancestors()]
    return any(_SCHEME.match(a.get(f"{{{XML_NS}}}base", "")) for a in scope)


def _apply(parent: etree._Element, where: str, checks: dict, problems: list[str]) -> None:
    """Run value checks on no-namespace children: checks maps child name -> check functions."""
    for name, funcs in checks.items():
        for child in _kids(parent, None, name):
            for func in funcs:
                if problem := func(_text(child)):
                    problems.append(f"{where}/{name}: {problem}")


class _HtmlScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.unsafe: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSAFE_TAGS:
            self.unsafe.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.unsafe.append(f"the {name} attribute")
            elif name in ("href", "src") and value is not None:
                if value.strip().lower().startswith("javascript:"):
                    self.unsafe.append("a javascript: URL")
                self.refs.append(value.strip())


def _check_html(html: str, where: str, problems: list[str], *, base: bool = False) -> None:
    """Relative href/src references (W3C ContainsRelRef) and markup readers strip."""
    scan = _HtmlScan()
    scan.feed(html)
    scan.close()
    if not base:
        for ref in scan.refs:
            if not _SCHEME.match(ref):
                problems.append(f"{where}: HTML has relative reference {ref!r} [ContainsRelRef]")
    for what in scan.unsafe:
        problems.append(f"{where}: HTML contains {what}, a security risk [SecurityRisk]")


# --- XML document-level checks ---------------------------------------------------------------

_XML_DECL = re.compile(
    rb"""(?:\xef\xbb\xbf)?<\?xml\s+version\s*=\s*["']1\.\d["']"""
    rb"""(?:\s+encoding\s*=\s*["']([A-Za-z][\w.-]*)["'])?"""
)


def _parse_xml(data: bytes, problems: list[str]) -> etree._Element | None:
    """Well-formedness, the UTF-8 declaration, and undefined namespace prefixes."""
    if not isinstance(data, bytes):
        raise TypeError("feedlint takes the serialized feed as bytes")
    decl = _XML_DECL.match(data)
    if decl is None or decl.group(1) is None:
        problems.append('document: XML declaration must declare encoding="UTF-8" [MissingEncoding]')
    elif decl.group(1).lower() != b"utf-8":
        problems.append(
            f"document: declared encoding {decl.group(1).decode()!r} is not UTF-8 [NotUTF8]"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"document: not valid UTF-8 at byte {exc.start} [UnicodeError]")
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        undefined = [
            e.message for e in parser.error_log if e.type_name == "NS_ERR_UNDEFINED_NAMESPACE"
        ]
        for message in undefined:
            problems.append(f"document: undefined namespace: {message} [MissingNamespace]")
        if not undefined:
            problems.append(f"document: not well-formed XML: {exc} [SAXError]")
        return None


def _check_namespaces(root: etree._Element, problems: list[str]) -> None:
    """Well-known prefixes bound to the wrong URI (e.g. content:encoded) and unknown URIs."""
    seen: set[tuple[str | None, str]] = set()
    for el in root.iter(etree.Element):
        for prefix, uri in el.nsmap.items():
            if (prefix, uri) in seen or uri in KNOWN_NAMESPACES:
                continue
            seen.add((prefix, uri))
            if prefix in _RESERVED_PREFIXES:
                expected = _RESERVED_PREFIXES[prefix]
                problems.append(
                    f"document: prefix {prefix!r} is bound to {uri!r}, not {expected!r} [ReservedPrefix]"
                )
            elif prefix is not None:
                problems.append(
                    f"document: unknown namespace {uri!r} (prefix {prefix!r}) [UnknownNamespace]"
                )


def _check_characters(root: etree._Element, problems: list[str]) -> None:
    """C1 control characters and U+FFFD usually mean mis-decoded text (W3C BadCharacters)."""
    for el in root.iter(etree.Element):
        values = [el.text or "", el.tail or "", *el.attrib.values()]
        if any(0x80 <= ord(c) <= 0x9F or c == "\ufffd" for value in values for c in value):
            problems.append(
                f"<{etree.QName(el).localname}>: contains C1 control or U+FFFD characters [BadCharacters]"
            )


# --- RSS 2.0 -----------------------------------------------------------------------------------

_CHANNEL_KIDS = {
    "title", "link", "description", "language", "copyright", "managingEditor", "webMaster",
    "pubDate", "lastBuildDate", "category", "generator", "docs", "cloud", "ttl", "image",
    "rating", "textInput", "skipHours", "skipDays", "item",
}  # fmt: skip
_ITEM_KIDS = {"title", "link", "description", "author", "category", "comments", "enclosure"}
_ITEM_KIDS |= {"guid", "pubDate", "source"}
# element -> (allowed no-namespace children, children that may repeat)
_RSS_VOCABULARY = {
    "channel": (_CHANNEL_KIDS, {"category", "item"}),
    "item": (_ITEM_KIDS, {"category"}),
    "image": ({"url", "title", "link", "width", "height", "description"}, set()),
    "textInput": ({"title", "description", "name", "link"}, set()),
    "skipHours": ({"hour"}, {"hour"}),
    "skipDays": ({"day"}, {"day"}),
}
_RSS_ATTRIBUTES = {
    "guid": {"isPermaLink"},
    "category": {"domain"},
    "enclosure": {"url", "length", "type"},
    "source": {"url"},
    "cloud": {"domain", "port", "path", "registerProcedure", "protocol"},
}
_CHANNEL_CHECKS: dict[str, tuple[Check, ...]] = {
    "title": (_nonblank, _plain),
    "link": (_absolute,),
    "description": (_plain,),
    "language": (_language,),
    "ttl": (_positive_int,),
    "pubDate": (_rfc822,),
    "lastBuildDate": (_rfc822,),
    "managingEditor": (_email,),
    "webMaster": (_email,),
    "docs": (_absolute,),
    "category": (_nonblank,),
}
_ITEM_CHECKS: dict[str, tuple[Check, ...]] = {
    "title": (_nonblank, _plain),
    "link": (_absolute,),
    "comments": (_absolute,),
    "pubDate": (_rfc822,),
    "author": (_email,),
    "category": (_nonblank,),
}
# core element -> extension element with the same meaning (W3C DuplicateSemantics)
_CHANNEL_TWINS = {
    "pubDate": (DC, "date"),
    "language": (DC, "language"),
    "copyright": (DC, "rights"),
}
_CHANNEL_TWINS |= {"managingEditor": (DC, "creator"), "lastBuildDate": (DCTERMS, "modified")}
_ITEM_TWINS = {"pubDate": (DC, "date"), "author": (DC, "creator"), "category": (DC, "subject")}
_ITEM_TWINS |= {"guid": (ATOM, "id")}


def lint_rss(data: bytes) -> list[str]:
    """Problems the W3C validator would report for an RSS 2.0 feed (errors and warnings)."""
    problems: list[str] = []
    root = _parse_xml(data, problems)
    if root is None:
        return problems
    _check_namespaces(root, problems)
    _check_characters(root, problems)
    channel = _check_rss_root(root, problems)
    if channel is None:
        return problems
    _check_rss_vocabulary(channel, "channel", problems)
    _check_rss_channel(channel, problems)
    _check_rss_atom_links(channel, problems)
    guids: dict[str, str] = {}
    for number, item in enumerate(_kids(channel, None, "item"), start=1):
        _check_rss_item(item, f"item {number}", guids, problems)
    return problems


def _check_rss_root(root: etree._Element, problems: list[str]) -> etree._Element | None:
    if root.tag != "rss":
        problems.append(
            f'document: root element is {root.tag!r}, not <rss version="2.0"> [UndefinedElement]'
        )
        return None
    if root.get("version") != "2.0":
        problems.append(
            f'rss: version is {root.get("version")!r}, expected "2.0" [InvalidRSSVersion]'
        )
    for name in set(root.attrib) - {"version"}:
        if not name.startswith("{"):
            problems.append(f"rss: unexpected attribute {name!r} [UnexpectedAttribute]")
    for child in _kids(root):
        if child.tag != "channel":
            problems.append(f"rss: unexpected child <{child.tag}> [UndefinedElement]")
    channels = _kids(root, None, "channel")
    if len(channels) != 1:
        problems.append(
            f"rss: must contain exactly one <channel>, found {len(channels)} [DuplicateElement]"
        )
    return channels[0] if channels else None


def _check_rss_vocabulary(el: etree._Element, where: str, problems: list[str]) -> None:
    """No unknown elements/attributes in the (empty) RSS namespace; no repeated singletons."""
    allowed, repeatable = _RSS_VOCABULARY.get(el.tag, (set(), set()))
    counts: Counter[str] = Counter()
    for child in _kids(el, None):
        counts[child.tag] += 1
        label = f"item {counts['item']}" if child.tag == "item" else f"{where}/{child.tag}"
        if child.tag not in allowed:
            problems.append(
                f"{where}: <{child.tag}> is not an RSS 2.0 element here [UndefinedElement]"
            )
            continue
        for name in child.attrib:
            if not name.startswith("{") and name not in _RSS_ATTRIBUTES.get(child.tag, ()):
                problems.append(f"{label}: unexpected attribute {name!r} [UnexpectedAttribute]")
        if child.tag in _RSS_VOCABULARY:
            _check_rss_vocabulary(child, label, problems)
    for name, count in counts.items():
        if count > 1 and name in allowed and name not in repeatable:
            problems.append(f"{where}: <{name}> appears {count} times [DuplicateElement]")


def _check_rss_channel(channel: etree._Element, problems: list[str]) -> None:
    for name, event in (
        ("title", "MissingTitle"),
        ("link", "MissingLink"),
        ("description", "MissingDescription"),
    ):
        if not _kids(channel, None, name):
            problems.append(f"channel: missing required <{name}> [{event}]")
    _apply(channel, "channel", _CHANNEL_CHECKS, problems)
    _check_twins(channel, "channel", _CHANNEL_TWINS, problems)
    if _kids(channel, None, "textInput"):
        problems.append("channel: <textInput> is discouraged by the RSS profile [AvoidTextInput]")
    seen_item = False
    for child in _kids(channel):
        if child.tag == "item":
            seen_item = True
        elif seen_item and (child.tag in _CHANNEL_KIDS or child.tag == f"{{{ATOM}}}link"):
            problems.append(
                f"channel: <{etree.QName(child).localname}> comes after the items [MisplacedItem]"
            )
    for image in _kids(channel, None, "image"):
        _check_rss_image(image, channel, problems)


def _check_rss_image(image: etree._Element, channel: etree._Element, problems: list[str]) -> None:
    for name in ("url", "title", "link"):
        if not _kids(image, None, name):
            problems.append(f"channel/image: missing required <{name}> [MissingElement]")
    _apply(image, "channel/image", {"url": (_absolute,), "link": (_absolute,)}, problems)
    for name, limit in (("width", 144), ("height", 400)):
        for el in _kids(image, None, name):
            if not (_text(el).isdigit() and 0 < int(_text(el)) <= limit):
                problems.append(
                    f"channel/image/{name}: {_text(el)!r} is not 1..{limit} [InvalidInteger]"
                )
    for name, event in (("title", "ImageTitleDoesntMatch"), ("link", "ImageLinkDoesntMatch")):
        ours, theirs = _kids(image, None, name), _kids(channel, None, name)
        if ours and theirs and _text(ours[0]) != _text(theirs[0]):
            problems.append(f"channel/image/{name}: should match the channel's <{name}> [{event}]")


def _check_rss_atom_links(channel: etree._Element, problems: list[str]) -> None:
    """atom:link rel="self" (W3C MissingAtomSelfLink) and the validity of every atom:link."""
    links = _kids(channel, ATOM, "link")
    for link in links:
        _check_atom_link(link, "channel", problems)
    selves = [link for link in links if link.get("rel") == "self"]
    if not selves:
        problems.append(
            'channel: missing <atom:link rel="self" type="application/rss+xml" href="..."/> [MissingAtomSelfLink]'
        )
    for link in selves:
        if link.get("type") != "application/rss+xml":
            problems.append(
                f'channel/atom:link[rel=self]: type is {link.get("type")!r}, not "application/rss+xml" [SelfNotAtom]'
            )


def _check_rss_item(
    item: etree._Element, where: str, guids: dict[str, str], problems: list[str]
) -> None:
    if not (_kids(item, None, "title") or _kids(item, None, "description")):
        problems.append(
            f"{where}: needs a <title> or a <description> [ItemMustContainTitleOrDescription]"
        )
    _apply(item, where, _ITEM_CHECKS, problems)
    _check_twins(item, where, _ITEM_TWINS, problems)
    for el in _kids(item, None, "description") + _kids(item, CONTENT, "encoded"):
        name = "description" if el.tag == "description" else "content:encoded"
        _check_html(el.text or "", f"{where}/{name}", problems)
    if _kids(item, CONTENT, "encoded") and not _kids(item, None, "description"):
        problems.append(
            f"{where}: <content:encoded> without a <description> [NeedDescriptionBeforeContent]"
        )
    for link in _kids(item, ATOM, "link"):
        _check_atom_link(link, where, problems, in_entry=True)
    for source in _kids(item, None, "source"):
        if problem := _absolute(source.get("url", "")):
            problems.append(f"{where}/source: url attribute {problem}")
    for enclosure in _kids(item, None, "enclosure"):
        _check_rss_enclosure(enclosure, f"{where}/enclosure", problems)
    _check_rss_guid(item, where, guids, problems)


def _check_rss_enclosure(enclosure: etree._Element, where: str, problems: list[str]) -> None:
    url, length, kind = (enclosure.get(name) for name in ("url", "length", "type"))
    if url is None or not url.lower().startswith(("http://", "https://")) or _uri_problem(url):
        problems.append(
            f"{where}: url {url!r} is not an absolute http(s) URL [InvalidURLAttribute]"
        )
    if length is None or not re.fullmatch(r"-?\d+", length):
        problems.append(f"{where}: length {length!r} is not an integer [InvalidIntegerAttribute]")
    elif int(length) < 0:
        problems.append(
            f"{where}: length {length} is negative; use 0 when unknown [UseZeroForUnknown]"
        )
    if kind is None or not _MIME.fullmatch(kind):
        problems.append(f"{where}: type {kind!r} is not a MIME type [InvalidMIMEAttribute]")


def _check_rss_guid(
    item: etree._Element, where: str, guids: dict[str, str], problems: list[str]
) -> None:
    found = _kids(item, None, "guid")
    if not found:
        problems.append(f"{where}: missing <guid> [MissingGuid]")
        return
    value, permalink = _text(found[0]), found[0].get("isPermaLink", "true")
    if permalink not in ("true", "false"):
        problems.append(
            f"{where}/guid: isPermaLink must be 'true' or 'false' [InvalidBooleanAttribute]"
        )
    if not value:
        problems.append(f"{where}/guid: must not be blank [NotBlank]")
        return
    if permalink == "true" and value.lower().startswith(("tag:", "urn:")):
        problems.append(
            f'{where}/guid: {value!r} is not a URL, so it needs isPermaLink="false" [InvalidPermalink]'
        )
    elif permalink == "true" and (problem := _uri_problem(value)):
        problems.append(
            f'{where}/guid: {problem}; a guid that is not a URL needs isPermaLink="false" [InvalidHttpGUID]'
        )
    elif permalink == "false" and value.isdigit() and len(value) < 9:
        problems.append(
            f"{where}/guid: {value!r} is not sufficiently unique [NotSufficientlyUnique]"
        )
    if value in guids:
        problems.append(
            f"{where}/guid: {value!r} is already used by {guids[value]} [DuplicateValue]"
        )
    guids.setdefault(value, where)


def _check_twins(el: etree._Element, where: str, twins: dict, problems: list[str]) -> None:
    for core, (ns, name) in twins.items():
        if _kids(el, None, core) and _kids(el, ns, name):
            prefix = KNOWN_NAMESPACES[ns]
            problems.append(
                f"{where}: both <{core}> and <{prefix}:{name}> give the same value [DuplicateSemantics]"
            )


# --- Atom 1.0 ----------------------------------------------------------------------------------

_FEED_KIDS = {"author", "category", "contributor", "generator", "icon", "id", "link", "logo"}
_FEED_KIDS |= {"rights", "subtitle", "title", "updated", "entry"}
_ENTRY_KIDS = {"author", "category", "content", "contributor", "id", "link", "published"}
_ENTRY_KIDS |= {"rights", "source", "summary", "title", "updated"}
_SINGLE = {"id", "title", "updated", "published", "subtitle", "rights", "icon", "logo"}
_SINGLE |= {"generator", "content", "summary", "source"}
_SELF_TYPES = {"application/atom+xml", "application/rss+xml", "application/rdf+xml"}


def lint_atom(data: bytes) -> list[str]:
    """Problems the W3C validator would report for an Atom 1.0 feed, plus RFC 4287 rules."""
    problems: list[str] = []
    root = _parse_xml(data, problems)
    if root is None:
        return problems
    _check_namespaces(root, problems)
    _check_characters(root, problems)
    if root.tag != f"{{{ATOM}}}feed":
        problems.append(
            f"document: root element is {root.tag!r}, not an Atom <feed> [UndefinedElement]"
        )
        return problems
    if root.prefix:
        problems.append(
            f"feed: write Atom in the default namespace, not as {root.prefix}: [AvoidNamespacePrefix]"
        )
    _check_atom_container(root, "feed", _FEED_KIDS, problems)
    _check_atom_feed(root, problems)
    feed_author = bool(_kids(root, ATOM, "author"))
    seen: dict[str, tuple[str, str]] = {}
    for number, entry in enumerate(_kids(root, ATOM, "entry"), start=1):
        _check_atom_entry(entry, f"entry {number}", feed_author, seen, problems)
    _check_feed_history(root, problems)
    _check_tombstones(root, problems)
    return problems


def _check_atom_container(
    el: etree._Element,
    where: str,
    allowed: set[str],
    problems: list[str],
    *,
    in_entry: bool = False,
) -> None:
    """Vocabulary, required and single-valued children, and each child's value (feed/entry/source)."""
    counts = Counter(etree.QName(child).localname for child in _kids(el, ATOM))
    for name in sorted(set(counts) - allowed):
        problems.append(f"{where}: <{name}> is not an Atom element here [UndefinedElement]")
    for name in ("id", "title", "updated") if etree.QName(el).localname != "source" else ():
        if not counts[name]:
            problems.append(f"{where}: missing required <{name}> [MissingElement]")
    for name, count in counts.items():
        if count > 1 and name in _SINGLE:
            problems.append(
                f"{where}: <{name}> appears {count} times; exactly one allowed [DuplicateElement]"
            )
    alternates: set[tuple[str, str]] = set()
    for child in _kids(el, ATOM):
        name, label = etree.QName(child).localname, f"{where}/{etree.QName(child).localname}"
        if name == "link":
            key = _check_atom_link(child, where, problems, in_entry=in_entry)
            if key[0] == "alternate" and key[1:] in alternates:
                problems.append(
                    f"{where}: two alternate links with type/hreflang {key[1:]} [DuplicateAtomLink]"
                )
            alternates.add(key[1:])
        elif name in ("title", "subtitle", "rights", "summary", "content"):
            _check_text_construct(child, label, problems)
        elif name in ("updated", "published") and (problem := _date3339(_text(child))):
            problems.append(f"{label}: {problem}")
        elif name == "id":
            _check_atom_id(child, label, problems)
        elif name in ("author", "contributor"):
            _check_person(child, label, problems)
        elif name == "category" and not child.get("term", "").strip():
            problems.append(f"{label}: missing term attribute [MissingAttribute]")
        elif name in ("icon", "logo") and (problem := _uri_ref_problem(_text(child))):
            problems.append(f"{label}: {problem} [InvalidIRI]")
        elif name == "source":
            _check_atom_container(child, label, _FEED_KIDS - {"entry"}, problems)


def _check_atom_feed(feed: etree._Element, problems: list[str]) -> None:
    rels = {link.get("rel", "alternate") for link in _kids(feed, ATOM, "link")}
    if "self" not in rels:
        problems.append('feed: missing <link rel="self" href="..."/> (its own URL) [MissingSelf]')
    if "alternate" not in rels:
        problems.append(
            'feed: missing <link rel="alternate" href="..."/> to the HTML page [best practice]'
        )
    if not _kids(feed, ATOM, "entry") and not _kids(feed, ATOM, "author"):
        problems.append("feed: missing <author> [MissingElement]")
    seen_entry = False
    for child in _kids(feed):
        qname = etree.QName(child)
        if (qname.namespace, qname.localname) in ((ATOM, "entry"), (TOMBSTONES, "deleted-entry")):
            seen_entry = True
        elif seen_entry and qname.namespace == ATOM:
            problems.append(
                f"feed: <{qname.localname}> comes after the entries [MisplacedMetadata]"
            )


def _check_atom_entry(
    entry: etree._Element,
    where: str,
    feed_author: bool,
    seen: dict[str, tuple[str, str]],
    problems: list[str],
) -> None:
    _check_atom_container(entry, where, _ENTRY_KIDS, problems, in_entry=True)
    sources = _kids(entry, ATOM, "source")
    if not (
        feed_author
        or _kids(entry, ATOM, "author")
        or any(_kids(s, ATOM, "author") for s in sources)
    ):
        problems.append(f"{where}: missing <author> (none at feed level either) [MissingElement]")
    content, summary = _kids(entry, ATOM, "content"), _kids(entry, ATOM, "summary")
    if not content and "alternate" not in {
        link.get("rel", "alternate") for link in _kids(entry, ATOM, "link")
    }:
        problems.append(
            f'{where}: needs <content> or <link rel="alternate"> [MissingContentOrAlternate]'
        )
    if not content and not summary:
        problems.append(f"{where}: has neither <content> nor <summary> [MissingTextualContent]")
    if content and content[0].get("src") is not None and not summary:
        problems.append(f"{where}: <content src> needs a <summary> [MissingSummary]")
    dates = {
        name: [_text(el) for el in _kids(entry, ATOM, name)] for name in ("updated", "published")
    }
    updated, published = (_rfc3339(d[0])[0] if d else None for d in dates.values())
    if updated and published and updated < published:
        problems.append(f"{where}: <updated> is earlier than <published> [spec]")
    ids = _kids(entry, ATOM, "id")
    if not ids:
        return
    key, stamp = _text(ids[0]), (dates["updated"] or [""])[0]
    if key in seen and seen[key][1] == stamp:
        problems.append(
            f"{where}: same id and updated as {seen[key][0]} ({key!r}) [DuplicateUpdated]"
        )
    elif key in seen:
        problems.append(f"{where}: id {key!r} is already used by {seen[key][0]} [DuplicateEntries]")
    seen.setdefault(key, (where, stamp))


def _check_atom_id(el: etree._Element, where: str, problems: list[str]) -> None:
    value = el.text or ""
    if value != value.strip():
        problems.append(f"{where}: id has surrounding whitespace [UnexpectedWhitespace]")
    if problem := _uri_problem(value.strip(), iri=True):
        problems.append(f"{where}: {problem} [InvalidIRI]")
        return
    parts = urlsplit(value.strip())
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        port = None
    if default_port and (
        parts.netloc != parts.netloc.lower() or port == default_port or not parts.path
    ):
        problems.append(f"{where}: {value!r} is not in canonical form [NonCanonicalURI]")
    elif not value.startswith(value.split(":", 1)[0].lower()):
        problems.append(f"{where}: {value!r} has an upper-case scheme [NonCanonicalURI]")


def _check_atom_link(
    link: etree._Element, where: str, problems: list[str], *, in_entry: bool = False
) -> tuple:
    """One atom:link (Atom feeds and RSS extension); returns (rel, type, hreflang)."""
    rel = link.get("rel", "alternate").removeprefix("http://www.iana.org/assignments/relation/")
    kind, hreflang, href = link.get("type", ""), link.get("hreflang", ""), link.get("href")
    label = f"{where} link rel={rel!r}"
    if href is None:
        problems.append(f"{label}: missing href attribute [MissingHref]")
    elif problem := _uri_ref_problem(href):
        problems.append(f"{label}: href {problem} [InvalidIRI]")
    elif rel == "self" and not in_entry and not _SCHEME.match(href) and not _has_base(link):
        problems.append(
            f"{label}: href {href!r} is relative; use the feed's absolute URL [RelativeSelf]"
        )
    if rel not in _LINK_RELS and _uri_problem(rel, iri=True):
        problems.append(
            f"{label}: rel {rel!r} is neither registered nor an absolute IRI [UnregisteredAtomLinkRel]"
        )
    if in_entry and rel in _PAGING_RELS:
        problems.append(f"{label}: feed-paging rel {rel!r} on an entry [FeedHistoryRelInEntry]")
    if kind and not _MIME.fullmatch(kind):
        problems.append(f"{label}: type {kind!r} is not a MIME type [InvalidMIMEType]")
    elif rel == "self" and kind and kind.split(";")[0].strip() not in _SELF_TYPES:
        problems.append(f"{label}: type {kind!r} is not a feed type [SelfNotAtom]")
    if hreflang and (problem := _language(hreflang)):
        problems.append(f"{label}: hreflang {problem}")
    if link.get("length") is not None and not link.get("length", "").isdigit():
        problems.append(
            f"{label}: length is not a non-negative integer [InvalidNonNegativeInteger]"
        )
    if _text(link) or len(link):
        problems.append(f"{label}: link must be empty [AtomLinkNotEmpty]")
    return rel, kind, hreflang


def _check_text_construct(el: etree._Element, where: str, problems: list[str]) -> None:
    """type text/html/xhtml (content may also be a MIME type or have src)."""
    kind, kids, is_content = (
        el.get("type", "text"),
        _kids(el),
        etree.QName(el).localname == "content",
    )
    if is_content and el.get("src") is not None:
        if problem := _uri_ref_problem(el.get("src", "")):
            problems.append(f"{where}: src {problem} [InvalidURIAttribute]")
        if el.get("type") is None:
            problems.append(f"{where}: content with src needs a type attribute [MissingTypeAttr]")
        if _text(el) or kids:
            problems.append(f"{where}: content with src must be empty [spec]")
        return
    if kind == "xhtml":
        if len(kids) != 1 or kids[0].tag != f"{{{XHTML}}}div" or _text(el):
            problems.append(
                f"{where}: type=xhtml content must be a single xhtml:div [MissingXhtmlDiv]"
            )
        for div in kids:
            _check_html(
                etree.tostring(div, encoding="unicode"), where, problems, base=_has_base(el)
            )
    elif kind in ("text", "html"):
        if kids:
            problems.append(
                f"{where}: type={kind} must not contain elements; escape the markup [UndefinedElement]"
            )
        if kind == "html":
            _check_html(el.text or "", where, problems, base=_has_base(el))
        elif problem := _plain(el.text or ""):
            problems.append(
                f"{where}: {problem.replace('[ContainsHTML]', '[ContainsUndeclaredHTML]')}"
            )
    elif not is_content:
        problems.append(f"{where}: type {kind!r} is not text, html or xhtml [InvalidTextType]")
    elif not _MIME.fullmatch(kind) or kind == "multipart/alternative":
        problems.append(f"{where}: type {kind!r} is not a MIME type [InvalidMIMEType]")
    if not _text(el) and not kids and etree.QName(el).localname in ("title", "summary", "content"):
        problems.append(f"{where}: must not be blank [NotBlank]")


def _check_person(el: etree._Element, where: str, problems: list[str]) -> None:
    names = _kids(el, ATOM, "name")
    if len(names) != 1 or not _text(names[0]):
        problems.append(f"{where}: needs exactly one non-blank <name> [MissingElement]")
    for email in _kids(el, ATOM, "email"):
        if not _EMAIL.fullmatch(_text(email)):
            problems.append(
                f"{where}/email: {_text(email)!r} is not an e-mail address [InvalidAddrSpec]"
            )
    for uri in _kids(el, ATOM, "uri"):
        if problem := _uri_ref_problem(_text(uri)):
            problems.append(f"{where}/uri: {problem} [InvalidIRI]")
    for child in _kids(el, ATOM):
        if etree.QName(child).localname not in ("name", "email", "uri"):
            problems.append(
                f"{where}: <{etree.QName(child).localname}> is not allowed here [UndefinedElement]"
            )


def _check_feed_history(feed: etree._Element, problems: list[str]) -> None:
    """RFC 5005: empty fh:complete / fh:archive on the feed; complete feeds are not paged."""
    marks = list(feed.iter(f"{{{HISTORY}}}*"))
    for el in marks:
        name = etree.QName(el).localname
        if name not in ("complete", "archive"):
            problems.append(f"fh:{name}: not an RFC 5005 element [UndefinedElement]")
        elif el.getparent() is not feed or _text(el) or len(el):
            problems.append(f"fh:{name}: must be an empty child of <feed> [spec]")
    if any(etree.QName(el).localname == "complete" for el in marks):
        for link in _kids(feed, ATOM, "link"):
            if link.get("rel") in _PAGING_RELS:
                problems.append(
                    f"feed: fh:complete feed has rel={link.get('rel')!r} link [FeedRelInCompleteFeed]"
                )


def _check_tombstones(feed: etree._Element, problems: list[str]) -> None:
    """RFC 6721: at:deleted-entry on the feed with ref (IRI) and when (RFC 3339)."""
    for el in feed.iter(f"{{{TOMBSTONES}}}*"):
        name, parent = etree.QName(el).localname, el.getparent()
        if name in ("by", "comment") and parent.tag == f"{{{TOMBSTONES}}}deleted-entry":
            continue
        if name != "deleted-entry" or parent is not feed:
            problems.append(f"at:{name}: not allowed here (RFC 6721) [UndefinedElement]")
            continue
        ref, when = el.get("ref"), el.get("when")
        if ref is None or (problem := _uri_problem(ref, iri=True)):
            problems.append(
                f"at:deleted-entry: ref {'attribute is missing' if ref is None else problem} [InvalidIRI]"
            )
        if when is None or (problem := _date3339(when)):
            problems.append(
                f"at:deleted-entry: when {'attribute is missing' if when is None else problem}"
            )


# --- JSON Feed 1.1 -----------------------------------------------------------------------------


@cache
def _json_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def lint_json_feed(data: bytes) -> list[str]:
    """Schema problems (jsonfeed-1.1.schema.json) plus checks the schema cannot express."""
    if not isinstance(data, bytes):
        raise TypeError("feedlint takes the serialized feed as bytes")
    problems: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append("document: JSON must not start with a byte order mark (RFC 8259) [spec]")

    def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
        for key, count in Counter(key for key, _ in pairs).items():
            if count > 1:
                problems.append(f"document: key {key!r} appears {count} times in one object [spec]")
        return dict(pairs)

    try:
        doc = json.loads(data.decode("utf-8-sig"), object_pairs_hook=no_duplicate_keys)
    except (UnicodeDecodeError, ValueError) as exc:
        return [*problems, f"document: not valid UTF-8 JSON: {exc} [spec]"]
    errors = _json_validator().iter_errors(doc)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append(_schema_message(error))
    if isinstance(doc, dict):
        _check_json_feed(doc, problems)
    return problems


def _schema_message(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(part) for part in error.absolute_path) or "feed"
    hint = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    if error.validator == "pattern" and hint:
        text = f"{error.instance!r} is not {hint}"
    elif error.validator in ("anyOf", "oneOf") and hint:
        text = hint
    else:
        text = error.message
    return f"{path}: {text} [JSON Feed 1.1 schema]"


def _check_json_feed(doc: dict, problems: list[str]) -> None:
    """Unique item ids, deprecated author, real dates in order, next_url, HTML references."""
    if "author" in doc:
        problems.append('feed: "author" is deprecated in JSON Feed 1.1; use "authors" [spec]')
    if doc.get("next_url") is not None and doc.get("next_url") == doc.get("feed_url"):
        problems.append("feed: next_url must not be the same as feed_url [spec]")
    items = doc.get("items") if isinstance(doc.get("items"), list) else []
    ids: dict[str, str] = {}
    for number, item in enumerate(items):
        where = f"items/{number}"
        if not isinstance(item, dict):
            continue
        if "author" in item:
            problems.append(
                f'{where}: "author" is deprecated in JSON Feed 1.1; use "authors" [spec]'
            )
        if isinstance(item.get("id"), str):
            if item["id"] in ids:
                problems.append(
                    f"{where}: id {item['id']!r} is already used by {ids[item['id']]} [DuplicateValue]"
                )
            ids.setdefault(item["id"], where)
        dates = {}
        for name in ("date_published", "date_modified"):
            value = item.get(name)
            if isinstance(value, str) and _RFC3339.fullmatch(value):
                dates[name], problem = _rfc3339(value)
                if problem:
                    problems.append(f"{where}/{name}: {problem}")
        if all(dates.get(n) for n in ("date_published", "date_modified")):
            if dates["date_modified"] < dates["date_published"]:
                problems.append(f"{where}: date_modified is earlier than date_published [spec]")
        if isinstance(item.get("content_html"), str):
            _check_html(item["content_html"], f"{where}/content_html", problems)
