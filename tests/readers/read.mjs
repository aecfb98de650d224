// Read feeds as two npm feed readers do and print what each hands its user, as JSON:
// rss-parser (title, contentSnippet: the text a reader lists) and feedsmith (title,
// description/summary). Run by tests/publishing/test_node_readers.py.
import { readFileSync } from "node:fs";
import Parser from "rss-parser";
import { parseFeed } from "feedsmith";

const out = {};
for (const path of process.argv.slice(2)) {
  const text = readFileSync(path, "utf8");
  const read = {};
  if (!path.endsWith(".json")) {
    const feed = await new Parser().parseString(text);
    read["rss-parser"] = feed.items.map((i) => ({
      title: i.title,
      snippet: i.contentSnippet,
      summary: i.summary ?? null,
      enclosure: i.enclosure ?? null,
    }));
  }
  const { format, feed } = parseFeed(path.endsWith(".json") ? JSON.parse(text) : text);
  read.format = format;
  read.feedsmith = (feed.items ?? feed.entries ?? []).map((i) => ({
    title: i.title,
    description: i.description ?? null,
    summary: i.summary ?? null,
    // Files (issue 14): RSS enclosures and Media RSS, Atom links, JSON Feed image/attachments.
    enclosures: i.enclosures ?? null,
    media: i.media ?? null,
    links: i.links ?? null,
    image: i.image ?? null,
    attachments: i.attachments ?? null,
  }));
  out[path] = read;
}
process.stdout.write(JSON.stringify(out));
