import type { DocLink } from '../corpus/document.js';

/** A page's text laid out for viewing: numbered lines (1-based in views) with link markers inline. */
export interface PageLayout {
  lines: string[];
  /** Links in the order their ids were assigned (id = position). */
  links: DocLink[];
}

export interface LayoutOptions {
  /** Line width; lines are wrapped at spaces. Default 80. */
  width?: number;
  /**
   * Which link markers name the target's host (`【3†Lima†geo.local】`, as browsing tools show it):
   * 'external' (links to another host than `pageUrl`'s; the default), 'always' or 'never'.
   */
  linkDomains?: 'external' | 'always' | 'never';
  /** The page's own URL (for 'external'). */
  pageUrl?: string;
}

/** The host of a URL, or '' when it has none. */
export function hostOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)/i.exec(url);
  return m ? m[1]!.toLowerCase() : '';
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/**
 * Where each link's marker goes: its anchor's first occurrence in the text that does not overlap an
 * earlier link's, preferring an occurrence at word boundaries (so "Peru" is not marked inside
 * "Peruvian" when a whole-word "Peru" comes later). Links keep their ids whatever order their
 * anchors appear in; anchors absent from the text get no span.
 */
export function placeLinks(text: string, links: readonly DocLink[]): ({ start: number; end: number } | undefined)[] {
  const taken: { start: number; end: number }[] = [];
  const overlaps = (s: number, e: number) => taken.some((t) => s < t.end && t.start < e);
  return links.map((link) => {
    if (!link.text) return undefined;
    let fallback: number | undefined;
    for (let at = text.indexOf(link.text); at >= 0; at = text.indexOf(link.text, at + 1)) {
      const end = at + link.text.length;
      if (overlaps(at, end)) continue;
      if (!isWordChar(text[at - 1]) && !isWordChar(text[end])) {
        fallback = at;
        break;
      }
      fallback ??= at;
    }
    if (fallback === undefined) return undefined;
    const span = { start: fallback, end: fallback + link.text.length };
    taken.push(span);
    return span;
  });
}

/**
 * Marks each link at its anchor's first occurrence (see `placeLinks`) as `【id†anchor】` (plus
 * `†host` per `linkDomains`), lists links whose anchor is absent under "Links:", and wraps the text
 * to `width` columns at spaces. Paragraph breaks become blank lines. Deterministic.
 */
export function layoutPage(text: string, links: readonly DocLink[], options: LayoutOptions | number = {}): PageLayout {
  const o = typeof options === 'number' ? { width: options } : options;
  const width = o.width ?? 80;
  const domains = o.linkDomains ?? 'external';
  const pageHost = hostOf(o.pageUrl ?? '');
  const marker = (id: number, anchor: string, url: string): string => {
    const host = hostOf(url);
    const show = domains === 'always' ? host !== '' : domains === 'external' ? host !== '' && host !== pageHost : false;
    return `【${id}†${anchor}${show ? `†${host}` : ''}】`;
  };
  const spans = placeLinks(text, links);
  const order = spans.map((s, id) => ({ s, id })).filter((x) => x.s !== undefined).sort((a, b) => a.s!.start - b.s!.start);
  let marked = '';
  let from = 0;
  for (const { s, id } of order) {
    marked += text.slice(from, s!.start) + marker(id, links[id]!.text, links[id]!.url);
    from = s!.end;
  }
  marked += text.slice(from);
  const unplaced = links.map((l, id) => ({ l, id })).filter((x) => spans[x.id] === undefined);
  if (unplaced.length) marked += '\n\nLinks:\n' + unplaced.map((u) => marker(u.id, u.l.text || u.l.url, u.l.url)).join('\n');
  const lines: string[] = [];
  for (const raw of marked.split('\n')) lines.push(...wrapLine(raw, width));
  return { lines, links: [...links] };
}

/**
 * The plain text of laid-out lines, as a reader sees it: link markers reduced to their anchor text,
 * lines joined by single spaces (runs of whitespace collapse to one, so a phrase broken by wrapping
 * or by a marker still matches), lowercased; `lineOf[i]` is the 0-based line of character i.
 */
export function plainText(lines: readonly string[]): { text: string; lineOf: Int32Array } {
  const joined = lines.join('\n');
  const out: string[] = [];
  const lineOf: number[] = [];
  let line = 0;
  let inMarker = false;
  let inHost = false;
  let space = true; // collapse leading whitespace
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i]!;
    if (c === '\n') line++;
    if (c === '【') {
      const m = /^【\d+†/.exec(joined.slice(i, i + 16));
      if (m) {
        inMarker = true;
        inHost = false;
        i += m[0].length - 1;
        continue;
      }
    }
    if (inMarker && c === '】') {
      inMarker = false;
      inHost = false;
      continue;
    }
    if (inMarker && c === '†') {
      inHost = true;
      continue;
    }
    if (inHost) continue;
    if (/\s/.test(c)) {
      if (space) continue;
      space = true;
      out.push(' ');
      lineOf.push(line);
      continue;
    }
    space = false;
    for (const l of c.toLowerCase()) {
      out.push(l);
      lineOf.push(line);
    }
  }
  return { text: out.join(''), lineOf: Int32Array.from(lineOf) };
}

/** Wraps one line at spaces (hard-splitting words longer than the width). Empty input gives ['']. */
export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(/ +/)) {
    let w = word;
    while (w.length > width) {
      if (cur) {
        out.push(cur);
        cur = '';
      }
      out.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ' ' + w;
    else {
      out.push(cur);
      cur = w;
    }
  }
  if (cur || out.length === 0) out.push(cur);
  return out;
}
