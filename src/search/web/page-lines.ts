import type { DocLink } from '../corpus/document.js';

/** A page's text laid out for viewing: numbered lines (1-based in views) with link markers inline. */
export interface PageLayout {
  lines: string[];
  /** Links in the order their ids were assigned (id = position). */
  links: DocLink[];
}

/**
 * Marks each link's first anchor occurrence (searching forward from the previous link) as
 * `【id†anchor】`, appends links whose anchor is absent under "Links:", and wraps the text to
 * `width` columns at spaces. Paragraph breaks become blank lines. Deterministic.
 */
export function layoutPage(text: string, links: readonly DocLink[], width = 80): PageLayout {
  let marked = '';
  let from = 0;
  const unplaced: { id: number; link: DocLink }[] = [];
  links.forEach((link, id) => {
    const at = link.text ? text.indexOf(link.text, from) : -1;
    if (at < 0) {
      unplaced.push({ id, link });
      return;
    }
    marked += text.slice(from, at) + `【${id}†${link.text}】`;
    from = at + link.text.length;
  });
  marked += text.slice(from);
  if (unplaced.length) marked += '\n\nLinks:\n' + unplaced.map((u) => `【${u.id}†${u.link.text || u.link.url}】`).join('\n');
  const lines: string[] = [];
  for (const raw of marked.split('\n')) lines.push(...wrapLine(raw, width));
  return { lines, links: [...links] };
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
