/**
 * Builds a corpus keiko does not ship: the English manual pages installed on this machine
 * (/usr/share/man/man{1,5,8}, Debian packages' roff sources), one JSONL row per page:
 * `{id, url, title, text, site, links, facts, aliases}`. Links come from each page's SEE ALSO
 * section (pages that exist in the corpus). Roff is reduced to text by a small, lossy reader
 * (macros dropped, font escapes removed), good enough for search.
 *
 * Usage: node --import tsx examples/own-corpus/build-manpages.ts OUT.jsonl [--limit N]
 */
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const SECTIONS = ['1', '5', '8'];
const ROOT = process.env.MAN_ROOT ?? '/usr/share/man';

interface Page {
  name: string;
  section: string;
  summary: string;
  text: string;
  seeAlso: { name: string; section: string }[];
}

/** Roff escapes and inline fonts → plain text. */
function inline(s: string): string {
  return s
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\s[+-]?\d/g, '')
    .replace(/\\\(em|\\\(en/g, '-')
    .replace(/\\\(aq/g, "'")
    .replace(/\\\((lq|rq|dq)/g, '"')
    .replace(/\\\(co/g, '(c)')
    .replace(/\\\(..|\\\[[^\]]*\]/g, '')
    .replace(/\\[-]/g, '-')
    .replace(/\\[&|^,/%:]/g, '')
    .replace(/\\e/g, '\\')
    .replace(/\\ /g, ' ')
    .replace(/\\(.)/g, '$1');
}

/** Reads one roff page into sections of plain text. */
function parse(src: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const raw of src.split('\n')) {
    if (raw.startsWith('.\\"') || raw.startsWith("'\\\"")) continue;
    const m = /^[.'](\w+)\s*(.*)$/.exec(raw);
    if (m) {
      const [, macro, args] = m;
      if (macro === 'SH') {
        cur = [];
        sections.set(inline(args!.replace(/"/g, '')).trim().toUpperCase(), cur);
        continue;
      }
      if (!cur) continue;
      if (['PP', 'P', 'LP', 'TP', 'IP', 'sp', 'br', 'SS'].includes(macro!)) {
        cur.push('\n');
        if (macro === 'SS' || macro === 'IP') cur.push(inline(args!.replace(/"/g, '')));
        continue;
      }
      if (['B', 'I', 'BR', 'RB', 'IR', 'RI', 'BI', 'IB', 'SM', 'SB'].includes(macro!)) {
        const parts = args!.match(/"[^"]*"|\S+/g) ?? [];
        const joiner = macro!.length === 2 ? '' : ' ';
        cur.push(inline(parts.map((p) => p.replace(/^"|"$/g, '')).join(joiner)));
      }
      continue;
    }
    if (cur) cur.push(inline(raw));
  }
  return sections;
}

function text(lines: string[] | undefined): string {
  return (lines ?? [])
    .join(' ')
    .split('\n')
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');
}

function readPage(path: string, section: string): Page | undefined {
  let src: string;
  try {
    src = path.endsWith('.gz') ? gunzipSync(readFileSync(path)).toString('utf8') : readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  if (/^\.so /m.test(src.slice(0, 200))) return undefined; // a link to another page
  const s = parse(src);
  const name = text(s.get('NAME'));
  const nm = /^(.+?)\s+[-–—]+\s+(.+)$/s.exec(name.replace(/\n+/g, ' '));
  if (!nm) return undefined;
  const names = nm[1]!.split(/,\s*/).map((x) => x.trim()).filter(Boolean);
  const body = ['DESCRIPTION', 'OPTIONS', 'EXAMPLES', 'FILES', 'NOTES'].map((k) => text(s.get(k))).filter(Boolean).join('\n\n');
  if (body.length < 80) return undefined;
  const see = text(s.get('SEE ALSO'));
  const seeAlso = [...see.matchAll(/([\w.+-]+)\s*\((\d)\w*\)/g)].map((m) => ({ name: m[1]!, section: m[2]! }));
  return { name: names[0]!, section, summary: nm[2]!.trim(), text: `${names.join(', ')} - ${nm[2]!.trim()}\n\n${body}${see ? `\n\nSee also: ${see}` : ''}`, seeAlso };
}

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: build-manpages.ts OUT.jsonl [--limit N]\n');
  process.exit(2);
}
const li = process.argv.indexOf('--limit');
const limit = li > 0 ? Number(process.argv[li + 1]) : Infinity;
const t0 = performance.now();
const pages: Page[] = [];
for (const sec of SECTIONS) {
  const dir = join(ROOT, `man${sec}`);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) {
    if (pages.length >= limit) break;
    const p = readPage(join(dir, f), sec);
    if (p) pages.push(p);
  }
}
const key = (name: string, section: string) => `${name}.${section}`;
const url = (p: { name: string; section: string }) => `https://manpages.local/man${p.section}/${encodeURIComponent(p.name)}.${p.section}`;
const seen = new Set<string>();
const unique = pages.filter((p) => !seen.has(key(p.name, p.section)) && seen.add(key(p.name, p.section)));
const stream = createWriteStream(out);
for (const p of unique) {
  const links = p.seeAlso
    .filter((l) => seen.has(key(l.name, l.section)) && !(l.name === p.name && l.section === p.section))
    .map((l) => ({ text: `${l.name}(${l.section})`, url: url(l) }))
    .filter((l) => p.text.includes(l.text));
  const row = {
    id: key(p.name, p.section),
    url: url(p),
    title: `${p.name}(${p.section})`,
    text: p.text,
    site: 'manpages',
    links: [...new Map(links.map((l) => [l.url, l])).values()],
    facts: { name: p.name, section: p.section },
    aliases: [p.name],
  };
  stream.write(JSON.stringify(row) + '\n');
}
stream.end(() => process.stderr.write(`wrote ${unique.length} manual pages to ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`));
