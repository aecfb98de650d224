<?xml version="1.0" encoding="UTF-8"?>
<!--
  Browser view for our RSS 2.0 and Atom 1.0 feeds.

  Feeds reference it with
    <?xml-stylesheet type="text/xsl" href="/assets/feed.xsl"?>
  so a person who opens a feed URL gets a readable HTML page, while feed
  readers keep reading the XML. Plain XSLT 1.0 (what browsers implement),
  no JavaScript, no external resources.

  Feed content is untrusted: everything is output as text (never
  disable-output-escaping), and only http(s) or relative URLs become links.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:fh="http://purl.org/syndication/history/1.0"
    xmlns:at="http://purl.org/atompub/tombstones/1.0"
    exclude-result-prefixes="atom content fh at">

  <xsl:output method="html" doctype-system="about:legacy-compat" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="upper" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"/>
  <xsl:variable name="lower" select="'abcdefghijklmnopqrstuvwxyz'"/>

  <!-- ============================================================ dispatch -->

  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="rss/channel">
        <xsl:apply-templates select="rss/channel[1]"/>
      </xsl:when>
      <xsl:when test="atom:feed">
        <xsl:apply-templates select="atom:feed"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="page">
          <xsl:with-param name="kind" select="'Feed'"/>
          <xsl:with-param name="title" select="'Unrecognised feed'"/>
          <xsl:with-param name="subtitle"
              select="'This document is neither an RSS 2.0 nor an Atom 1.0 feed.'"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="channel">
    <xsl:call-template name="page">
      <xsl:with-param name="kind" select="'RSS'"/>
      <xsl:with-param name="lang" select="normalize-space(language)"/>
      <xsl:with-param name="title" select="normalize-space(title)"/>
      <xsl:with-param name="subtitle" select="normalize-space(description)"/>
      <xsl:with-param name="self" select="normalize-space(atom:link[@rel = 'self'][1]/@href)"/>
      <xsl:with-param name="site" select="normalize-space(link[1])"/>
      <xsl:with-param name="items" select="item"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="atom:feed">
    <xsl:call-template name="page">
      <xsl:with-param name="kind" select="'Atom'"/>
      <xsl:with-param name="lang" select="normalize-space(@xml:lang)"/>
      <xsl:with-param name="title" select="normalize-space(atom:title)"/>
      <xsl:with-param name="subtitle" select="normalize-space(atom:subtitle)"/>
      <xsl:with-param name="self" select="normalize-space(atom:link[@rel = 'self'][1]/@href)"/>
      <xsl:with-param name="site"
          select="normalize-space(atom:link[@rel = 'alternate' or not(@rel)][1]/@href)"/>
      <!-- at:deleted-entry tombstones are deliberately not selected -->
      <xsl:with-param name="items" select="atom:entry"/>
    </xsl:call-template>
  </xsl:template>

  <!-- ================================================================ page -->

  <!-- Context node: rss/channel or atom:feed (both carry atom:link and fh:archive). -->
  <xsl:template name="page">
    <xsl:param name="kind"/>
    <xsl:param name="lang"/>
    <xsl:param name="title"/>
    <xsl:param name="subtitle"/>
    <xsl:param name="self"/>
    <xsl:param name="site"/>
    <xsl:param name="items" select="/.."/>

    <xsl:variable name="older" select="normalize-space(atom:link[@rel = 'prev-archive'][1]/@href)"/>
    <xsl:variable name="newer" select="normalize-space(atom:link[@rel = 'next-archive'][1]/@href)"/>
    <!-- A "current" link pointing at this very page is not worth showing. -->
    <xsl:variable name="current-href" select="normalize-space(atom:link[@rel = 'current'][1]/@href)"/>
    <xsl:variable name="current">
      <xsl:if test="$current-href != $self"><xsl:value-of select="$current-href"/></xsl:if>
    </xsl:variable>
    <xsl:variable name="page-title">
      <xsl:choose>
        <xsl:when test="$title != ''"><xsl:value-of select="$title"/></xsl:when>
        <xsl:otherwise>Untitled feed</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>

    <html>
      <xsl:attribute name="lang">
        <xsl:choose>
          <xsl:when test="$lang != ''"><xsl:value-of select="$lang"/></xsl:when>
          <xsl:otherwise>en</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$page-title"/> (<xsl:value-of select="$kind"/> feed)</title>
        <style><xsl:call-template name="css"/></style>
      </head>
      <body>
        <header class="masthead">
          <aside class="about" lang="en" aria-labelledby="about-heading">
            <h2 id="about-heading">
              <span class="badge" aria-hidden="true"><xsl:value-of select="$kind"/></span>
              This is a web feed
            </h2>
            <p>
              You are looking at the <xsl:value-of select="$kind"/> feed of this site, shown as a
              web page. To follow it, copy the feed URL into your feed reader (Miniflux,
              FreshRSS, NetNewsWire, Feedly…) and new items will come to you.
            </p>
            <xsl:if test="$self != ''">
              <p class="feed-url-row">
                <span class="label">Feed URL</span>
                <code class="feed-url"><xsl:value-of select="$self"/></code>
              </p>
            </xsl:if>
            <p class="small">
              New to feeds? <a href="https://aboutfeeds.com/">Read about feeds</a>.
            </p>
          </aside>

          <xsl:if test="fh:archive">
            <p class="archive-note" lang="en" role="note">
              <strong>This is an archive page.</strong>
              It holds older items and does not change.
              <xsl:if test="$current != ''">
                For the latest items,
                <xsl:call-template name="link">
                  <xsl:with-param name="href" select="$current"/>
                  <xsl:with-param name="text" select="'go to the current feed'"/>
                </xsl:call-template>.
              </xsl:if>
            </p>
          </xsl:if>

          <h1><xsl:value-of select="$page-title"/></h1>
          <xsl:if test="$subtitle != ''">
            <p class="subtitle"><xsl:value-of select="$subtitle"/></p>
          </xsl:if>
          <xsl:if test="$site != ''">
            <p class="site" lang="en">
              <xsl:call-template name="link">
                <xsl:with-param name="href" select="$site"/>
                <xsl:with-param name="text">
                  <xsl:text>Visit the website: </xsl:text>
                  <xsl:call-template name="strip-scheme">
                    <xsl:with-param name="url" select="$site"/>
                  </xsl:call-template>
                </xsl:with-param>
              </xsl:call-template>
            </p>
          </xsl:if>
        </header>

        <main>
          <xsl:choose>
            <xsl:when test="$items">
              <h2 class="visually-hidden" lang="en">Items</h2>
              <xsl:apply-templates select="$items"/>
            </xsl:when>
            <xsl:otherwise>
              <p class="empty" lang="en">This feed has no items yet.</p>
            </xsl:otherwise>
          </xsl:choose>
        </main>

        <xsl:if test="$older != '' or $newer != '' or $current != ''">
          <nav class="archive-nav" lang="en" aria-label="Feed archive">
            <ul>
              <xsl:if test="$older != ''">
                <li class="older">
                  <xsl:call-template name="link">
                    <xsl:with-param name="href" select="$older"/>
                    <xsl:with-param name="text" select="'← Older'"/>
                    <xsl:with-param name="rel" select="'prev'"/>
                  </xsl:call-template>
                </li>
              </xsl:if>
              <xsl:if test="$current != ''">
                <li class="current">
                  <xsl:call-template name="link">
                    <xsl:with-param name="href" select="$current"/>
                    <xsl:with-param name="text" select="'Current'"/>
                  </xsl:call-template>
                </li>
              </xsl:if>
              <xsl:if test="$newer != ''">
                <li class="newer">
                  <xsl:call-template name="link">
                    <xsl:with-param name="href" select="$newer"/>
                    <xsl:with-param name="text" select="'Newer →'"/>
                    <xsl:with-param name="rel" select="'next'"/>
                  </xsl:call-template>
                </li>
              </xsl:if>
            </ul>
          </nav>
        </xsl:if>
      </body>
    </html>
  </xsl:template>

  <!-- =============================================================== items -->

  <xsl:template match="item">
    <xsl:call-template name="article">
      <!-- feedsvc writes an RSS title that looks like markup, and every description, as
           HTML of the text: shown as the text again. -->
      <xsl:with-param name="title">
        <xsl:call-template name="html-text">
          <xsl:with-param name="html" select="normalize-space(title)"/>
        </xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="href">
        <xsl:choose>
          <xsl:when test="normalize-space(link) != ''">
            <xsl:value-of select="normalize-space(link)"/>
          </xsl:when>
          <xsl:when test="guid and not(guid/@isPermaLink = 'false')">
            <xsl:value-of select="normalize-space(guid)"/>
          </xsl:when>
        </xsl:choose>
      </xsl:with-param>
      <xsl:with-param name="date" select="normalize-space(pubDate)"/>
      <xsl:with-param name="summary">
        <xsl:call-template name="html-text">
          <xsl:with-param name="html" select="normalize-space(description)"/>
        </xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="categories" select="category"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="date">
      <xsl:choose>
        <xsl:when test="normalize-space(atom:published) != ''">
          <xsl:value-of select="normalize-space(atom:published)"/>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="normalize-space(atom:updated)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:call-template name="article">
      <xsl:with-param name="title">
        <xsl:apply-templates select="atom:title" mode="text"/>
      </xsl:with-param>
      <xsl:with-param name="href"
          select="normalize-space(atom:link[@rel = 'alternate' or not(@rel)][1]/@href)"/>
      <xsl:with-param name="date" select="substring($date, 1, 10)"/>
      <xsl:with-param name="datetime" select="$date"/>
      <xsl:with-param name="summary">
        <xsl:apply-templates select="atom:summary" mode="text"/>
      </xsl:with-param>
      <xsl:with-param name="categories" select="atom:category"/>
      <xsl:with-param name="lang" select="normalize-space(@xml:lang)"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="article">
    <xsl:param name="title"/>
    <xsl:param name="href"/>
    <xsl:param name="date"/>
    <xsl:param name="datetime"/>
    <xsl:param name="summary" select="/.."/>
    <xsl:param name="categories" select="/.."/>
    <xsl:param name="lang"/>
    <article class="item">
      <xsl:if test="$lang != ''">
        <xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute>
      </xsl:if>
      <h3>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="$href"/>
          <xsl:with-param name="text">
            <xsl:choose>
              <xsl:when test="$title != ''"><xsl:value-of select="$title"/></xsl:when>
              <xsl:otherwise>(untitled)</xsl:otherwise>
            </xsl:choose>
          </xsl:with-param>
        </xsl:call-template>
      </h3>
      <xsl:if test="$date != '' or $categories">
        <div class="meta">
          <xsl:if test="$date != ''">
            <xsl:choose>
              <xsl:when test="$datetime != ''">
                <time datetime="{$datetime}" title="{$datetime}"><xsl:value-of select="$date"/></time>
              </xsl:when>
              <xsl:otherwise>
                <span class="date"><xsl:value-of select="$date"/></span>
              </xsl:otherwise>
            </xsl:choose>
          </xsl:if>
          <xsl:if test="$categories">
            <span class="visually-hidden" lang="en"> Categories: </span>
            <ul class="tags">
              <xsl:apply-templates select="$categories" mode="tag"/>
            </ul>
          </xsl:if>
        </div>
      </xsl:if>
      <xsl:if test="normalize-space($summary) != ''">
        <!-- Text only: markup in the feed shows up as literal text, never as HTML. -->
        <p class="summary"><xsl:value-of select="normalize-space($summary)"/></p>
      </xsl:if>
    </article>
  </xsl:template>

  <xsl:template match="category" mode="tag">
    <xsl:if test="normalize-space(.) != ''">
      <li><xsl:value-of select="normalize-space(.)"/></li>
    </xsl:if>
  </xsl:template>

  <xsl:template match="atom:category" mode="tag">
    <xsl:choose>
      <xsl:when test="normalize-space(@label) != ''">
        <li><xsl:value-of select="normalize-space(@label)"/></li>
      </xsl:when>
      <xsl:when test="normalize-space(@term) != ''">
        <li><xsl:value-of select="normalize-space(@term)"/></li>
      </xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- ============================================================= helpers -->

  <!-- An Atom text construct as text: type="html" holds HTML of the text. -->
  <xsl:template match="atom:title | atom:summary" mode="text">
    <xsl:choose>
      <xsl:when test="@type = 'html'">
        <xsl:call-template name="html-text">
          <xsl:with-param name="html" select="normalize-space(.)"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space(.)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The text of HTML that is escaped text (what feedsvc writes where a format says
       HTML): its five references undone, &amp; last. The result is output as text, so
       markup in it still shows as literal text, never as HTML. -->
  <xsl:template name="html-text">
    <xsl:param name="html"/>
    <xsl:call-template name="replace">
      <xsl:with-param name="text">
        <xsl:call-template name="replace">
          <xsl:with-param name="text">
            <xsl:call-template name="replace">
              <xsl:with-param name="text">
                <xsl:call-template name="replace">
                  <xsl:with-param name="text">
                    <xsl:call-template name="replace">
                      <xsl:with-param name="text" select="$html"/>
                      <xsl:with-param name="from" select="'&amp;lt;'"/>
                      <xsl:with-param name="to" select="'&lt;'"/>
                    </xsl:call-template>
                  </xsl:with-param>
                  <xsl:with-param name="from" select="'&amp;gt;'"/>
                  <xsl:with-param name="to" select="'&gt;'"/>
                </xsl:call-template>
              </xsl:with-param>
              <xsl:with-param name="from" select="'&amp;quot;'"/>
              <xsl:with-param name="to" select="'&quot;'"/>
            </xsl:call-template>
          </xsl:with-param>
          <xsl:with-param name="from" select='"&amp;#x27;"'/>
          <xsl:with-param name="to" select='"&apos;"'/>
        </xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="from" select="'&amp;amp;'"/>
      <xsl:with-param name="to" select="'&amp;'"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="substring-before($text, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!--
    A link if the URL is http(s) or relative (no colon at all); otherwise the
    text alone, so javascript:, data: and friends never become clickable.
  -->
  <xsl:template name="link">
    <xsl:param name="href"/>
    <xsl:param name="text"/>
    <xsl:param name="rel"/>
    <xsl:variable name="url" select="normalize-space($href)"/>
    <xsl:variable name="probe" select="translate($url, $upper, $lower)"/>
    <xsl:choose>
      <xsl:when test="$url != '' and (starts-with($probe, 'https://')
                      or starts-with($probe, 'http://') or not(contains($url, ':')))">
        <a href="{$url}">
          <xsl:if test="$rel != ''">
            <xsl:attribute name="rel"><xsl:value-of select="$rel"/></xsl:attribute>
          </xsl:if>
          <xsl:copy-of select="$text"/>
        </a>
      </xsl:when>
      <xsl:otherwise>
        <xsl:copy-of select="$text"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="strip-scheme">
    <xsl:param name="url"/>
    <xsl:variable name="rest">
      <xsl:choose>
        <xsl:when test="contains($url, '://')"><xsl:value-of select="substring-after($url, '://')"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$url"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:choose>
      <xsl:when test="substring($rest, string-length($rest)) = '/'">
        <xsl:value-of select="substring($rest, 1, string-length($rest) - 1)"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$rest"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================= css -->

  <xsl:template name="css">
:root {
  color-scheme: light dark;
  --bg: #ffffff;
  --fg: #1b1b1f;
  --muted: #55575e;
  --link: #0a58ca;
  --visited: #6b3fa0;
  --rule: #dcdde1;
  --box: #f3f6fb;
  --box-rule: #c9d6ea;
  --tag: #eceef2;
  --badge-bg: #b34700;
  --badge-fg: #ffffff;
  --note: #fff6d6;
  --note-rule: #e5c965;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #141518;
    --fg: #e9e9ec;
    --muted: #b2b4bb;
    --link: #8ab4f8;
    --visited: #c9a7f5;
    --rule: #34363c;
    --box: #1d2330;
    --box-rule: #34425c;
    --tag: #2a2c32;
    --badge-bg: #f39a4c;
    --badge-fg: #141518;
    --note: #332b10;
    --note-rule: #6e5b1c;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0 auto;
  max-width: 44rem;
  padding: 1.25rem 1rem 3rem;
  background: var(--bg);
  color: var(--fg);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
    "Liberation Sans", Arial, sans-serif;
  font-size: 1.0625rem;
  line-height: 1.6;
  overflow-wrap: break-word;
}
a { color: var(--link); text-underline-offset: 0.15em; }
a:visited { color: var(--visited); }
a:hover { text-decoration-thickness: 2px; }
a:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; border-radius: 2px; }
h1, h2, h3 { line-height: 1.25; }
h1 { font-size: 1.9rem; margin: 1.5rem 0 0.4rem; }
.subtitle { margin: 0 0 0.4rem; color: var(--muted); font-size: 1.1rem; }
.site { margin: 0 0 1.5rem; }
.about {
  background: var(--box);
  border: 1px solid var(--box-rule);
  border-radius: 0.6rem;
  padding: 1rem 1.1rem;
}
.about h2 {
  display: flex; align-items: center; gap: 0.55rem;
  font-size: 1.1rem; margin: 0 0 0.4rem;
}
.about p { margin: 0.4rem 0; }
.badge {
  display: inline-block;
  background: var(--badge-bg); color: var(--badge-fg);
  border-radius: 0.3rem; padding: 0.05rem 0.45rem;
  font-size: 0.75rem; font-weight: 700; letter-spacing: 0.04em; text-transform: uppercase;
}
.feed-url-row { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.5rem; }
.label { font-weight: 600; font-size: 0.9rem; }
.feed-url {
  flex: 1 1 16rem;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.9rem;
  background: var(--bg);
  border: 1px solid var(--box-rule);
  border-radius: 0.35rem;
  padding: 0.3rem 0.5rem;
  word-break: break-all;
  -webkit-user-select: all;
  user-select: all;
}
.small { font-size: 0.9rem; color: var(--muted); }
.archive-note {
  background: var(--note);
  border: 1px solid var(--note-rule);
  border-radius: 0.6rem;
  padding: 0.7rem 1rem;
  margin: 1rem 0 0;
}
main { border-top: 1px solid var(--rule); }
.item { padding: 1.1rem 0 1.2rem; border-bottom: 1px solid var(--rule); }
.item h3 { font-size: 1.25rem; margin: 0 0 0.3rem; }
.item h3 a { text-decoration: none; }
.item h3 a:hover, .item h3 a:focus-visible { text-decoration: underline; }
.meta {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.35rem 0.75rem;
  margin: 0 0 0.5rem; color: var(--muted); font-size: 0.9rem;
}
.tags {
  display: inline-flex; flex-wrap: wrap; gap: 0.35rem;
  list-style: none; margin: 0; padding: 0;
}
.tags li {
  background: var(--tag); color: var(--fg);
  border-radius: 999px; padding: 0 0.6rem; font-size: 0.8rem;
}
.summary { margin: 0; }
.empty { color: var(--muted); padding: 1rem 0; }
.archive-nav ul {
  list-style: none; padding: 0; margin: 1.5rem 0 0;
  display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0.75rem;
}
.archive-nav a {
  display: inline-block; padding: 0.45rem 0.9rem;
  border: 1px solid var(--rule); border-radius: 0.5rem; text-decoration: none;
}
.archive-nav a:hover { border-color: var(--link); }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
@media (max-width: 30rem) {
  body { font-size: 1rem; }
  h1 { font-size: 1.55rem; }
}
  </xsl:template>

</xsl:stylesheet>
