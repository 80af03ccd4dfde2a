import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../../core/errors.js';
import type { DocLink, SearchDocument } from './document.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a dictd index number (base64 digits, most significant first). */
export function decodeDictdNumber(s: string): number {
  let v = 0;
  for (const ch of s) {
    const d = B64.indexOf(ch);
    if (d < 0) throw new ConfigError(`bad dictd number '${s}'`);
    v = v * 64 + d;
  }
  return v;
}

/** Encodes a non-negative integer as a dictd index number. */
export function encodeDictdNumber(n: number): string {
  if (n === 0) return 'A';
  let s = '';
  while (n > 0) {
    s = B64[n % 64] + s;
    n = Math.floor(n / 64);
  }
  return s;
}

/** One line of a dictd `.index`: a headword and the byte span of its entry in the `.dict` data. */
export interface DictdIndexEntry {
  headword: string;
  offset: number;
  length: number;
}

/** Parses a dictd `.index` file's text. */
export function parseDictdIndex(text: string): DictdIndexEntry[] {
  const out: DictdIndexEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const parts = line.split('\t');
    if (parts.length < 3) continue;
    out.push({ headword: parts[0]!, offset: decodeDictdNumber(parts[1]!), length: decodeDictdNumber(parts[2]!) });
  }
  return out;
}

export interface DictdSourceOptions {
  /** Path of the `.index` file. */
  indexPath: string;
  /** Path of the `.dict` or `.dict.dz` (dictzip = gzip) file. */
  dictPath: string;
  /** Site name, also the URL host: https://<site>.local/wiki/<Title>. */
  site: string;
  /**
   * Turn `{cross references}` into links to the entries they name (FOLDOC, Jargon, WordNet). When
   * false, braces are just removed (GCIDE uses them for markup, not references).
   */
  links: boolean;
}

/** URL path segment for a title: spaces become underscores, the rest is percent-encoded. */
export function titleSlug(title: string): string {
  return encodeURIComponent(title.trim().replace(/\s+/g, '_'));
}

/**
 * Reads a dictd database into pages: one page per entry (headwords sharing an entry are merged),
 * hard-wrapped paragraphs re-flowed, and `{references}` turned into links when `links` is set.
 * Unresolvable references (and ones that embed a URL) stay as plain text.
 */
export function readDictd(options: DictdSourceOptions): SearchDocument[] {
  const index = parseDictdIndex(readFileSync(options.indexPath, 'latin1'));
  const raw = readFileSync(options.dictPath);
  const data = options.dictPath.endsWith('.dz') || options.dictPath.endsWith('.gz') ? gunzipSync(raw) : raw;
  // Group headwords by entry span, keeping first-seen order of spans.
  const bySpan = new Map<string, { offset: number; length: number; headwords: string[] }>();
  for (const e of index) {
    if (e.headword.startsWith('00-database') || e.headword.startsWith('00database')) continue;
    const key = `${e.offset}:${e.length}`;
    const g = bySpan.get(key);
    // The index is latin1-decoded above to keep byte offsets; headwords are UTF-8 bytes.
    const hw = Buffer.from(e.headword, 'latin1').toString('utf8');
    if (g) g.headwords.push(hw);
    else bySpan.set(key, { offset: e.offset, length: e.length, headwords: [hw] });
  }
  const entries = [...bySpan.values()].sort((a, b) => a.offset - b.offset);
  const pages: { title: string; slug: string; body: string; headwords: string[] }[] = [];
  const usedSlug = new Map<string, number>();
  const urlByHeadword = new Map<string, string>();
  const host = `https://${options.site}.local/wiki/`;
  for (const e of entries) {
    if (e.offset + e.length > data.length) throw new ConfigError(`${options.indexPath}: entry '${e.headwords[0]}' points past the end of ${options.dictPath}`);
    const text = data.subarray(e.offset, e.offset + e.length).toString('utf8');
    const { title, body } = splitEntry(text, e.headwords);
    const base = titleSlug(title) || titleSlug(e.headwords[0]!) || 'entry';
    const count = (usedSlug.get(base) ?? 0) + 1;
    usedSlug.set(base, count);
    const slug = count === 1 ? base : `${base}_(${count})`;
    pages.push({ title, slug, body, headwords: e.headwords });
    for (const hw of [title, ...e.headwords]) {
      const key = hw.toLowerCase();
      if (!urlByHeadword.has(key)) urlByHeadword.set(key, host + slug);
    }
  }
  const resolve = (ref: string): string | undefined => {
    const key = ref.toLowerCase();
    return urlByHeadword.get(key) ?? (key.endsWith('s') ? urlByHeadword.get(key.slice(0, -1)) : undefined) ?? (key.endsWith('es') ? urlByHeadword.get(key.slice(0, -2)) : undefined);
  };
  return pages.map((p) => {
    const { text, links } = extractBraceLinks(p.body, options.links ? resolve : () => undefined, host + p.slug);
    return { id: `${options.site}:${p.slug}`, url: host + p.slug, title: p.title, text, site: options.site, links };
  });
}

/** Separates an entry's headword line(s) from its body; re-flows hard-wrapped paragraphs. */
function splitEntry(text: string, headwords: readonly string[]): { title: string; body: string } {
  const lines = text.replace(/\r/g, '').split('\n');
  let i = 0;
  while (i < lines.length && !lines[i]!.trim()) i++;
  const first = (lines[i] ?? '').trim();
  const isHead = first && !/^\s/.test(lines[i] ?? '') && headwords.some((h) => h.toLowerCase() === first.toLowerCase());
  const title = isHead ? first : (headwords[0] ?? first);
  // Drop leading unindented lines that are headwords (FOLDOC lists aliases under the title).
  if (isHead) {
    i++;
    while (i < lines.length && lines[i]!.trim() && !/^\s/.test(lines[i]!) && headwords.some((h) => h.toLowerCase() === lines[i]!.trim().toLowerCase())) i++;
  }
  return { title, body: reflow(lines.slice(i)) };
}

/**
 * Joins the lines of each paragraph with spaces when they share one indentation (hard-wrapped
 * prose); keeps line breaks in paragraphs with mixed indentation (verse, code, lists).
 */
export function reflow(lines: readonly string[]): string {
  const paragraphs: string[][] = [];
  let cur: string[] = [];
  for (const l of lines) {
    if (l.trim()) cur.push(l);
    else if (cur.length) {
      paragraphs.push(cur);
      cur = [];
    }
  }
  if (cur.length) paragraphs.push(cur);
  const indent = (l: string) => l.length - l.trimStart().length;
  return paragraphs
    .map((p) => {
      const base = indent(p[0]!);
      const flowing = p.slice(1).every((l) => Math.abs(indent(l) - indent(p[Math.min(1, p.length - 1)]!)) === 0) && (p.length < 2 || indent(p[1]!) <= base + 4);
      return flowing ? p.map((l) => l.trim()).join(' ') : p.map((l) => l.slice(Math.min(base, indent(l))).trimEnd()).join('\n');
    })
    .join('\n\n');
}

/**
 * Replaces `{anchor}` by `anchor`, recording a link when `resolve(anchor)` finds a page (never a
 * link from a page to itself). Whitespace inside braces (from line wrapping) is collapsed.
 */
export function extractBraceLinks(body: string, resolve: (anchor: string) => string | undefined, selfUrl?: string): { text: string; links: DocLink[] } {
  const links: DocLink[] = [];
  const seen = new Set<string>();
  const text = body.replace(/\{([^{}]*)\}/g, (_m, inner: string) => {
    const anchor = inner.replace(/\s+/g, ' ').trim();
    const hasUrl = /\(\s*(https?|ftp|mailto):/i.test(anchor);
    const shown = hasUrl ? anchor.replace(/\s*\((https?|ftp|mailto):[^)]*\)\s*/gi, ' ').trim() : anchor;
    if (!hasUrl && anchor) {
      const url = resolve(anchor);
      if (url && url !== selfUrl && !seen.has(url)) {
        seen.add(url);
        links.push({ text: anchor, url });
      }
    }
    return shown;
  });
  return { text, links };
}
