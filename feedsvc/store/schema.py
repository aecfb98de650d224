"""The schema: one definition for SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
    text,
)

from feedsvc.store.dialects import TSVector


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


metadata = MetaData()

_SEARCH_VECTORS = ("search_vector", "search_title")
_GIN = frozenset(f"releases_{name}" for name in _SEARCH_VECTORS)

releases = Table(
    "releases",
    metadata,
    # Issue 15: `id` is the release's key, model.scoped(release id, language): the bare
    # release id in the site's own language, "<id>@<tag>" for a translation, whose `scope`
    # is that tag ('' for the site's own language). Translations share `release_id`.
    Column("id", String(240), primary_key=True),
    Column("release_id", String(200), nullable=False),
    Column("scope", String(35), nullable=False, server_default=""),
    Column("source", Text, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("section", Text, nullable=False),
    Column("section_slug", String(200), nullable=False),
    Column("language", String(35), nullable=False),
    Column("tags", Text, nullable=False),  # JSON list
    Column("author", Text),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("updated_in_file", UTCDateTime),
    Column("publish_at", UTCDateTime),
    # Set when the release first becomes visible, its rank among its language's releases
    # (so each language has its own archive pages); never changed after.
    Column("seq", Integer),
    Column("tag_date", Date, nullable=False),
    Column("withdrawn_at", UTCDateTime),
    # Issue 14: the files it names (canonical JSON of its MediaRefs) and their state when
    # read (reading/file_states.py); NULL for a release without files.
    Column("media", Text),
    Column("media_state", String(64)),
    # Issue 16: front matter `change_note`, what an edit says to alert subscribers (an
    # edit without one is not emailed again).
    Column("change_note", Text),
    # Issue 17: front matter `contact` (a name of config.toml's [contacts]) and
    # `notes_to_editors` (a JSON list of text; NULL for none).
    Column("contact", String(64)),
    Column("notes_to_editors", Text),
    # The texts after every small column (issue 18): SQLite keeps a row's first bytes in
    # its table page and the rest in overflow pages it must walk through to reach a later
    # column, so a read of dates, seqs or slugs (keys, listings, counts, sections) no
    # longer walks ~9 KB of text a release. A store made before keeps its order (columns
    # are read by name); only a new one is laid out so.
    Column("summary", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    # Issue 17 item 1: what search indexes (feedsvc/search/text.py: the title's terms, a
    # newline, the summary's and body's), written with the row; NULL is never found.
    # PostgreSQL keeps tsvectors beside it (all of it, and the title's, for the title
    # tier), written by a trigger (SEARCH_DDL) so queries never parse text; on SQLite they
    # stay NULL (the FTS5 table holds the index).
    Column("search_text", Text),
    Column("search_vector", Text().with_variant(TSVector(), "postgresql")),
    Column("search_title", Text().with_variant(TSVector(), "postgresql")),
    Index("releases_scope_seq", "scope", "seq", unique=True),
    Index("releases_published", "scope", "published", "id"),
    Index("releases_section", "scope", "section_slug", "published", "id"),
    Index("releases_release_id", "release_id"),
    Index("releases_source", "source"),
    Index("releases_withdrawn", "withdrawn_at"),
    # Empty on SQLite (the columns are NULL there): the partial indexes cost nothing. GIN
    # on PostgreSQL (`_gin_on_postgresql`).
    *(
        Index(f"releases_{name}", name, sqlite_where=text(f"{name} IS NOT NULL"))
        for name in _SEARCH_VECTORS
    ),
)


@event.listens_for(releases, "before_create")
def _gin_on_postgresql(table: Table, connection: Any, **_kw: Any) -> None:
    """The search vectors' indexes are GIN on PostgreSQL, set as the table is created
    there: a `postgresql_using` given with the Index would import the PostgreSQL dialect
    (~20 ms) for every command on SQLite too (store/dialects.py). Alembic does not compare
    an index's method; the migration (0010) makes them GIN too."""
    if connection.dialect.name != "postgresql":
        return
    for index in table.indexes:
        if index.name in _GIN:
            index.dialect_kwargs["postgresql_using"] = "gin"


# The outbox: one row per outbound message, written in the transaction that causes it.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("target", Text, nullable=False),
    Column("subject", Text),  # what it is about: a release id, a feed URL, a share
    Column("payload", Text, nullable=False),  # JSON
    Column("key", String(400), nullable=False, unique=True),  # idempotency key
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_token", String(32)),  # who holds the claim: only they record the outcome
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("deliveries_due", "status", "next_attempt_at"),
    Index("deliveries_lease", "status", "lease_until"),
    Index("deliveries_target", "channel", "target", "status"),
    # Issue 16: shares and webhooks are claimed before alerts (never starved by a fan-out
    # of 100,000 alerts queued ahead of them), each by its own range of this index.
    Index("deliveries_channel_due", "channel", "status", "next_attempt_at", "id"),
)

# Every attempt and how it ended, for `feedsvc outbox show`.
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("delivery_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("outcome", String(12), nullable=False),  # delivered, retry, dead, released
    Column("error", Text),
    Index("delivery_attempts_delivery", "delivery_id", "number"),
)

# Webhook endpoints that fail or asked to be left alone (HTTP 410).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("url", String(2000), primary_key=True),
    Column("failing_since", UTCDateTime),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", Text),
)

# "Suggest To A Friend". Addresses are kept as keyed hashes (for rate limits and the
# suppression list); an address itself lives only in its email delivery (the recipient as
# its target, the sharer as its Reply-To), and only until that is delivered; an email that
# died keeps its recipient, not its Reply-To, until share.retention_days. Names, messages
# and IP hashes go after share.retention_days.
shares = Table(
    "shares",
    metadata,
    Column("id", String(32), primary_key=True),  # random; in the confirmation and link URLs
    # The release's key (issue 15: a translation's is "<id>@<tag>", as releases.id).
    Column("release_id", String(240), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ip_hash", String(64)),
    Column("sender_name", Text),
    # Written by feedsvc before issue 11 only, and emptied by the purge; kept (NULL) so an
    # older instance beside a newer one during an upgrade still works.
    Column("sender_email", Text),
    Column("sender_hash", String(64)),
    Column("message", Text),
    Column("recipients", Integer, nullable=False),  # accepted, suppressed ones included
    Column("clicks", Integer, nullable=False, default=0),
    Column("erased_at", UTCDateTime),
    # The honeypot caught it: stored like any share (it counts towards the limits, its
    # confirmation page works) and sends nothing.
    Column("trapped", Integer, nullable=False, default=0),
    Index("shares_created", "created_at"),
    Index("shares_ip", "ip_hash", "created_at"),
    Index("shares_sender", "sender_hash", "created_at"),
    Index("shares_release", "release_id"),
)

share_recipients = Table(
    "share_recipients",
    metadata,
    Column("share_id", String(32), nullable=False),
    Column("recipient_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("suppressed", Integer, nullable=False, default=0),
    Index("share_recipients_hash", "recipient_hash", "created_at"),
    Index("share_recipients_share", "share_id"),
)

# Addresses that asked for no more email (one-click unsubscribe, RFC 8058), as keyed hashes.
suppressions = Table(
    "suppressions",
    metadata,
    Column("address_hash", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Form tokens already spent: a token is good once.
used_tokens = Table(
    "used_tokens",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("used_at", UTCDateTime, nullable=False),
    Index("used_tokens_used", "used_at"),
)

# Every change of the published set, in order: instances that do not scan (followers, on
# PostgreSQL) replay it to keep their caches current. Kept a day.
# Facts about what the store holds as a whole (issue 15): "reading.languages", the
# languages the items folder was last read with, so a change of them re-reads every file.
# Issue 17: a release's tags, one row each, so a tag's page and feeds are one indexed
# lookup. Rows follow the release's text (replaced on every edit) and stay when it is
# withdrawn (its tag feeds then carry the tombstone); visibility is the release's.
release_tags = Table(
    "release_tags",
    metadata,
    Column("release_key", String(240), primary_key=True),  # releases.id
    Column("slug", String(200), primary_key=True),  # model.tag_slug(name)
    Column("scope", String(35), nullable=False),  # as releases.scope
    Column("name", Text, nullable=False),  # as the release wrote it
    Index("release_tags_scope_slug", "scope", "slug"),
)

store_facts = Table(
    "store_facts",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

site_changes = Table(
    "site_changes",
    metadata,
    Column("generation", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("changes", Text, nullable=False),  # JSON: ids, sections and seqs that changed
)

# Shares accepted per minute: the overall limit sums the last hour's sixty rows instead of
# counting an hour of shares one by one.
share_minutes = Table(
    "share_minutes",
    metadata,
    Column("minute", UTCDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
)

# Who reads the feeds (issue 12 item 11): the latest subscriber count each feed fetcher
# reported in its User-Agent (`Feedly/1.0 (...; 45 subscribers)`), one row per feed and
# fetcher (a service polling one feed for several subscriptions names each: Feedbin's
# `feed-id:N`). Forgotten 30 days after the fetcher was last seen.
feed_readers = Table(
    "feed_readers",
    metadata,
    Column("feed", String(500), primary_key=True),  # the feed's URL path, e.g. /feed.xml
    Column("fetcher", String(300), primary_key=True),  # reader name, and its feed id if any
    Column("reader", String(100), nullable=False),
    Column("subscribers", Integer, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Index("feed_readers_seen", "last_seen"),
)

# Clients of a feed that report no count: one keyed hash (never an address) of the client's
# network and User-Agent per feed and UTC day. Kept 30 days.
feed_clients = Table(
    "feed_clients",
    metadata,
    Column("day", Date, primary_key=True),
    Column("feed", String(500), primary_key=True),
    Column("client", String(32), primary_key=True),
)

# Email alerts (issue 16): one row per address, found by its keyed hash. Nothing is sent
# but the confirmation until the address confirms (double opt-in); the consent record
# (when, from which client network, which version of the form, on what basis) is kept
# while the subscription lives, and the row goes whole when the person asks to be erased.
subscribers = Table(
    "subscribers",
    metadata,
    Column("id", String(32), primary_key=True),  # random; in the signed links
    Column("address_hash", String(64), nullable=False),
    Column("address", Text),  # NULL once the person has left
    Column("frequency", String(12), nullable=False),  # immediate, daily, weekly
    Column("sections", Text),  # JSON list of slugs; NULL follows everything
    Column("language", String(35)),
    Column("status", String(12), nullable=False),  # pending confirmed suspended unsubscribed
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("consent_at", UTCDateTime),
    Column("consent_network", String(64)),  # sharing.keys.network_of: never the address
    Column("consent_form", String(40)),
    Column("consent_basis", String(32)),  # double-opt-in, import-consent-column, ...
    # Issue 16: the operator's words for a consent given elsewhere (`--confirmed BASIS`),
    # or where an import's consent column came from; whole, for the consent record.
    Column("consent_note", Text),
    Column("hard_bounces", Integer, nullable=False, default=0),
    Column("soft_bounces", Integer, nullable=False, default=0),
    Column("last_digest_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("subscribers_address", "address_hash", unique=True),  # one per address
    Index("subscribers_status", "status", "frequency"),  # fan-out, digests, counts
    Index("subscribers_pending", "status", "updated_at"),  # forget_unconfirmed
)

# What alert subscribers are told of (issue 16): a release that became public, or an edit
# with a change note, written in the transaction that publishes it. The immediate fan-out
# and the digests both read it, so a digest lists what an immediate alert would have sent.
alert_items = Table(
    "alert_items",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("release_key", String(240), nullable=False),  # releases.id
    Column("scope", String(35), nullable=False),  # its language ('' the site's own)
    Column("section_slug", String(200), nullable=False),
    Column("kind", String(12), nullable=False),  # published, updated
    Column("note", Text),  # the change note of an update
    Column("at", UTCDateTime, nullable=False),
    Index("alert_items_scope_at", "scope", "at"),
    Index("alert_items_release", "release_key"),
)

# Subscribe requests, for the form's limits (per client, per address, overall): keyed
# hashes only, kept a day.
subscription_requests = Table(
    "subscription_requests",
    metadata,
    Column("address_hash", String(64), nullable=False),
    Column("ip_hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("mailed", Integer, nullable=False, default=0),  # a confirmation email was queued
    Index("subscription_requests_ip", "ip_hash", "at"),
    Index("subscription_requests_address", "address_hash", "at"),
    Index("subscription_requests_at", "at"),
)


# Issue 17 item 1: the search index, kept current by triggers in the transaction that
# writes a release (sync, publish_due, withdrawal). SQLite: a contentless FTS5 table holding
# the VISIBLE releases only (seq set, not withdrawn), their title's and body's terms and
# their facets (scope and section as hex tokens: always one token, never a user's word);
# its rowid is the release's `published` minute << 32 | the release row's rowid, so FTS5
# hands out matches newest first and a year is a rowid range, without reading a release
# row (feedsvc never VACUUMs, which could renumber rowids; the backup API copies pages).
# PostgreSQL: tsvectors of all of it and of the title, GIN-indexed, filtered at query time.
_VISIBLE = "{0}.seq IS NOT NULL AND {0}.withdrawn_at IS NULL AND {0}.search_text IS NOT NULL"
_KEY = "(CAST(strftime('%s', {0}.published) AS INTEGER) / 60) * 4294967296 + {0}.rowid"
_COLUMNS = (
    "substr({0}.search_text, 1, instr({0}.search_text, char(10)) - 1), "
    "substr({0}.search_text, instr({0}.search_text, char(10)) + 1), "
    "'s' || lower(hex({0}.scope)) || ' c' || lower(hex({0}.section_slug))"
)
_FTS_ADD = (
    "INSERT INTO releases_fts(rowid, title, body, facets) "
    f"SELECT {_KEY.format('new')}, {_COLUMNS.format('new')} WHERE {_VISIBLE.format('new')};"
)
_FTS_DROP = (
    "INSERT INTO releases_fts(releases_fts, rowid, title, body, facets) "
    f"SELECT 'delete', {_KEY.format('old')}, {_COLUMNS.format('old')} "
    f"WHERE {_VISIBLE.format('old')};"
)
_PG_FUNCTION = """CREATE OR REPLACE FUNCTION releases_search_vectors()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := to_tsvector('simple', replace(NEW.search_text, E'\\n', ' '));
  NEW.search_title := to_tsvector('simple', split_part(NEW.search_text, E'\\n', 1));
  RETURN NEW;
END $$"""
_FTS_UPDATED = "search_text, seq, withdrawn_at, published, scope, section_slug"


def _fts_trigger(name: str, when: str, body: str) -> str:
    head = f"CREATE TRIGGER IF NOT EXISTS releases_fts_{name} AFTER {when} ON releases"
    return f"{head} BEGIN {body} END"


# Each statement may run twice (a database made from the metadata before migrations gets
# them with its releases table, then from migration 0010): IF NOT EXISTS, OR REPLACE.
SEARCH_DDL = {
    "sqlite": (
        # Tokens are made in Python (search/text.py) and only split at spaces here; marks
        # (M*) stay in their word as text.py keeps them.
        "CREATE VIRTUAL TABLE IF NOT EXISTS releases_fts USING fts5(title, body, facets, "
        "content='', tokenize=\"unicode61 remove_diacritics 2 categories 'L* N* Co M*'\")",
        _fts_trigger("insert", "INSERT", _FTS_ADD),
        _fts_trigger("delete", "DELETE", _FTS_DROP),
        _fts_trigger("update", f"UPDATE OF {_FTS_UPDATED}", f"{_FTS_DROP} {_FTS_ADD}"),
    ),
    "postgresql": (
        _PG_FUNCTION,
        "CREATE OR REPLACE TRIGGER releases_search_vectors BEFORE INSERT OR UPDATE OF "
        "search_text ON releases FOR EACH ROW EXECUTE FUNCTION releases_search_vectors()",
    ),
}
# Issue 18: a bulk publish (a first import) on SQLite. Each FTS5 write a row trigger makes
# is flushed to disk on its own (a segment a row: 5.4 s CPU for 10,000 releases); one
# INSERT ... SELECT fills the index in about 1 s. In seq order, read from the (scope, seq)
# index: FTS5 flushes whenever a rowid is not above the last, and seq order is the rowid's
# (published minute, then row) but for ties within a minute; sorted by rowid instead, the
# rows' text went through a sorter (+16 MiB at 10,000). So publish_due drops the
# update trigger, sets the seqs, indexes the rows it published (scope = :scope AND seq >
# :after, the seqs it gave), and makes the trigger again, in the one transaction: no
# other writer ever sees the store without it.
SQLITE_BULK_INDEX = (
    "DROP TRIGGER releases_fts_update",
    "INSERT INTO releases_fts(rowid, title, body, facets) "
    f"SELECT {_KEY.format('r')}, {_COLUMNS.format('r')} FROM releases AS r "
    f"WHERE r.scope = :scope AND r.seq > :after AND {_VISIBLE.format('r')} ORDER BY r.seq",
    SEARCH_DDL["sqlite"][3],
)
# The FTS5 table's own tables (SQLite makes them): not in the metadata.
SEARCH_TABLES = tuple(
    "releases_fts" + suffix for suffix in ("", "_data", "_idx", "_docsize", "_config")
)

for _dialect, _statements in SEARCH_DDL.items():
    for _statement in _statements:
        # DDL() formats with %: strftime's '%s' doubled.
        ddl = DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect)
        event.listen(releases, "after_create", ddl)
