// The Markdown of dbt descriptions, as DOM nodes (never HTML text, so a description cannot inject
// markup): headings, paragraphs, bullet and numbered lists, fenced code, and inline `code`,
// **bold**, *emphasis* and [links](https://…) (http, https and mailto only).
import { h, type Child } from "../dom";

// Emphasis needs a non-word character (or the text's edge) outside each marker and no space or
// bracket just inside it, so that customer_id_and_order_id and count(*) … sum(*) stay as written.
const kInline =
  /(`[^`]+`)|(\*\*[^*]+\*\*)|((?<![\w*])\*(?=[^\s*()[\]])[^*]*?(?<=[^\s*()[\]])\*(?![\w*])|(?<![\w_])_(?=[^\s_()[\]])[^_]*?(?<=[^\s_()[\]])_(?![\w_]))|(\[[^\]]+\]\([^)\s]+\))/;

function inline(text: string): Child[] {
  const out: Child[] = [];
  let rest = text;
  while (rest) {
    const m = kInline.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    const token = m[0];
    if (m[1]) {
      out.push(h("code", null, token.slice(1, -1)));
    } else if (m[2]) {
      out.push(h("strong", null, inline(token.slice(2, -2))));
    } else if (m[3]) {
      out.push(h("em", null, inline(token.slice(1, -1))));
    } else {
      const close = token.indexOf("](");
      const label = token.slice(1, close);
      const url = token.slice(close + 2, -1);
      out.push(/^(https?:|mailto:)/i.test(url) ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, inline(label)) : token);
    }
    rest = rest.slice(m.index + token.length);
  }
  return out;
}

// Renders `text` (dbt description Markdown) into block elements.
export function markdown(text: string | undefined): Child[] {
  if (!text || !text.trim()) return [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Child[] = [];
  let paragraph: string[] = [];
  let list: { ordered: boolean; items: string[] } | null = null;
  const flush = () => {
    if (paragraph.length) blocks.push(h("p", null, inline(paragraph.join(" "))));
    paragraph = [];
    if (list) blocks.push(h(list.ordered ? "ol" : "ul", null, list.items.map((i) => h("li", null, inline(i)))));
    list = null;
  };
  for (let i = 0; i < lines.length; ++i) {
    const line = lines[i];
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (++i; i < lines.length && !lines[i].trim().startsWith(fence[1]); ++i) code.push(lines[i]);
      blocks.push(h("pre", { class: "sql" }, code.join("\n")));
      continue;
    }
    const heading = /^\s*(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = Math.min(6, heading[1].length + 2);
      blocks.push(h(`h${level}` as "h3", null, inline(heading[2])));
    } else if (bullet || numbered) {
      const ordered = !bullet;
      if (paragraph.length || (list && list.ordered !== ordered)) flush();
      list ??= { ordered, items: [] };
      list.items.push((bullet ?? numbered)![1]);
    } else if (!line.trim()) {
      flush();
    } else if (list && /^\s+/.test(line)) {
      list.items[list.items.length - 1] += ` ${line.trim()}`;
    } else {
      if (list) flush();
      paragraph.push(line.trim());
    }
  }
  flush();
  return blocks;
}
