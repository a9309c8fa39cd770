// A client-side preview of the Markdown the reader typed. Built from DOM nodes
// and text only (no innerHTML): the text is not sanitised yet, so it must never
// be parsed as markup. Covers what the hint mentions; the server's renderer
// has the final word.

import { h } from "./dom";

// `code`, **bold**, *italic* / _italic_, [text](http...), in that priority.
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|(?:\*([^*\s][^*]*?)\*|_([^_\s][^_]*?)_)|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;

function inline(source: string): Node[] {
  const out: Node[] = [];
  let last = 0;
  for (const m of source.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(document.createTextNode(source.slice(last, at)));
    if (m[1] !== undefined) out.push(h("code", {}, m[1]));
    else if (m[2] !== undefined) out.push(h("strong", {}, ...inline(m[2])));
    else if (m[3] !== undefined || m[4] !== undefined) out.push(h("em", {}, ...inline(m[3] ?? m[4] ?? "")));
    else out.push(h("a", { href: m[6], target: "_blank", rel: "nofollow ugc noopener noreferrer" }, m[5]));
    last = at + m[0].length;
  }
  if (last < source.length) out.push(document.createTextNode(source.slice(last)));
  return out;
}

/** Paragraphs (blank-line separated), quotes ("> "), lists ("- "), line breaks. */
export function renderPreview(source: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const block of source.trim().split(/\n\s*\n/)) {
    const lines = block.split("\n");
    if (lines.every((l) => /^\s*[-*] /.test(l))) {
      fragment.append(h("ul", {}, ...lines.map((l) => h("li", {}, ...inline(l.replace(/^\s*[-*] /, ""))))));
      continue;
    }
    const quote = lines.every((l) => l.startsWith(">"));
    const p = h("p");
    lines.forEach((line, i) => {
      if (i) p.append(h("br"));
      p.append(...inline(quote ? line.replace(/^>\s?/, "") : line));
    });
    fragment.append(quote ? h("blockquote", {}, p) : p);
  }
  return fragment;
}
