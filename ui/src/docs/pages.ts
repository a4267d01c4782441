// The documentation site's pages: the project overview, a node (model, seed, snapshot, source,
// analysis, exposure) with its columns, tests, code and lineage, the whole lineage graph, and
// search results.
import { fmtBytes, fmtCount, h, type Child } from "../dom";
import { drawDag } from "../layout";
import { nodeHref, relationOf, type DocsIndex, type ManifestNode } from "./data";
import { markdown } from "./markdown";

// dbt docs' column test letters.
const kTestLetters: Record<string, string> = { unique: "U", not_null: "N", accepted_values: "A", relationships: "F" };

function typePill(n: ManifestNode): HTMLElement {
  return h("span", { class: `pill docs-type docs-${n.resource_type}` }, n.resource_type);
}

function nodeLink(idx: DocsIndex, id: string): Child {
  const n = idx.nodes.get(id);
  if (!n) return h("code", null, id);
  const label = n.resource_type === "source" ? `${n.source_name}.${n.name}` : n.name;
  return h("a", { href: nodeHref(n), class: "docs-link" }, label);
}

function linkList(idx: DocsIndex, ids: string[]): Child {
  if (!ids.length) return h("span", { class: "muted" }, "none");
  return h("ul", { class: "docs-links" }, [...ids].sort().map((id) => h("li", null, nodeLink(idx, id), " ",
    h("span", { class: "muted small" }, idx.nodes.get(id)?.resource_type ?? ""))));
}

// The DAG of `ids` (edges among them), `selected` outlined; a click opens a node's page.
export function lineage(idx: DocsIndex, ids: Set<string>, selected?: string): SVGSVGElement {
  const nodes = [...ids].map((id) => idx.nodes.get(id)!).filter((n) => n);
  const edges = nodes.flatMap((n) => idx.parents(n.unique_id).filter((p) => ids.has(p)).map((p) => ({ from: p, to: n.unique_id })));
  return drawDag(nodes.map((n) => ({
    id: n.unique_id,
    label: n.resource_type === "source" ? `${n.source_name}.${n.name}` : n.name,
    sublabel: `${n.resource_type}${n.config?.materialized && n.resource_type === "model" ? ` · ${n.config.materialized}` : ""}`,
    cls: `docs-${n.resource_type}`,
    title: n.unique_id,
    selected: n.unique_id === selected,
    onClick: () => { location.hash = nodeHref(n); },
  })), edges);
}

function columnRows(idx: DocsIndex, n: ManifestNode): Child {
  const catalog = idx.catalogOf(n.unique_id);
  const documented = n.columns ?? {};
  const byLower = new Map(Object.values(documented).map((c) => [c.name.toLowerCase(), c]));
  const rows: { name: string; type: string; description?: string }[] = [];
  const seen = new Set<string>();
  for (const c of Object.values(catalog?.columns ?? {}).sort((a, b) => a.index - b.index)) {
    const doc = byLower.get(c.name.toLowerCase());
    rows.push({ name: c.name, type: c.type, description: doc?.description });
    if (doc) seen.add(doc.name);
  }
  for (const c of Object.values(documented)) {
    if (!seen.has(c.name)) rows.push({ name: c.name, type: c.data_type ?? "", description: c.description });
  }
  if (!rows.length) return h("p", { class: "muted" }, "No columns: the relation was not found in the catalog and none are documented.");
  const tests = idx.tests(n.unique_id);
  const testsOf = (column: string) => tests.filter((t) => (t.column_name ?? "").toLowerCase() === column.toLowerCase());
  return h("table", { class: "table compact", "data-testid": "docs-columns" },
    h("thead", null, h("tr", null, ["Column", "Type", "Description", "Tests"].map((t) => h("th", null, t)))),
    h("tbody", null, rows.map((r) => h("tr", { "data-column": r.name },
      h("td", null, h("code", null, r.name)),
      h("td", { class: "muted" }, r.type),
      h("td", { class: "docs-md" }, markdown(r.description)),
      h("td", null, testsOf(r.name).map((t) => {
        const kind = t.test_metadata?.name ?? t.name;
        return h("span", { class: "pill docs-test", title: t.name }, kTestLetters[kind] ?? "+");
      }))))));
}

function details(idx: DocsIndex, n: ManifestNode): Child {
  const catalog = idx.catalogOf(n.unique_id);
  const tags = [...new Set([...(n.tags ?? []), ...(n.config?.tags ?? [])])];
  const stats = Object.values(catalog?.stats ?? {}).filter((s) => s.include);
  const row = (label: string, value: Child) => [h("dt", null, label), h("dd", null, value)];
  return h("dl", { class: "kv", "data-testid": "docs-details" },
    n.resource_type !== "exposure" ? row("Relation", h("code", null, relationOf(n) || "–")) : null,
    n.resource_type === "model" && n.config?.materialized ? row("Materialized", n.config.materialized) : null,
    catalog?.metadata.type ? row("Type", catalog.metadata.type) : null,
    catalog?.metadata.owner ? row("Owner", catalog.metadata.owner) : null,
    n.owner?.name || n.owner?.email ? row("Owner", [n.owner.name, n.owner.email].filter((x) => x).join(" · ")) : null,
    n.resource_type === "source" && n.loader ? row("Loader", n.loader) : null,
    n.url ? row("URL", /^https?:/i.test(n.url) ? h("a", { href: n.url, target: "_blank", rel: "noopener noreferrer" }, n.url) : n.url) : null,
    row("Package", n.package_name ?? "–"),
    n.language ? row("Language", n.language) : null,
    n.original_file_path ? row("File", h("code", null, n.original_file_path)) : null,
    tags.length ? row("Tags", tags.map((t) => h("span", { class: "chip" }, t))) : null,
    stats.map((s) => row(s.label, typeof s.value === "number" && /byte/i.test(s.label) ? fmtBytes(s.value) : typeof s.value === "number" ? fmtCount(s.value) : String(s.value))));
}

function codeSection(n: ManifestNode): Child {
  if (!n.raw_code && !n.compiled_code) return null;
  const pre = h("pre", { class: "sql", "data-testid": "docs-code" });
  const modes: [string, string | undefined][] = [["Source", n.raw_code], ["Compiled", n.compiled_code]];
  const buttons = modes.filter(([, code]) => code !== undefined).map(([label, code]) => {
    const b = h("button", { class: "tab", onclick: () => show(b, code ?? "") }, label);
    return b;
  });
  const show = (active: HTMLElement, code: string) => {
    for (const b of buttons) b.classList.toggle("active", b === active);
    pre.textContent = code;
  };
  show(buttons[0], modes.find(([, code]) => code !== undefined)![1] ?? "");
  return [h("h3", null, "Code ", h("span", { class: "tabs inline" }, buttons)), pre];
}

export function nodePage(idx: DocsIndex, id: string): Child {
  const n = idx.nodes.get(id);
  if (!n) return h("div", { class: "error-box", role: "alert" }, `No node ${id} in manifest.json.`);
  const description = n.description || (n.resource_type === "source" ? n.source_description : "");
  const tests = idx.tests(id);
  return [
    h("h1", { "data-testid": "docs-title" }, n.resource_type === "source" ? `${n.source_name}.${n.name}` : n.name, " ", typePill(n)),
    details(idx, n),
    h("h3", null, "Description"),
    description ? h("div", { class: "docs-md", "data-testid": "docs-description" }, markdown(description)) : h("p", { class: "muted" }, "This node is not documented yet."),
    n.resource_type === "exposure" ? null : [h("h3", null, "Columns"), columnRows(idx, n)],
    h("div", { class: "docs-refs" },
      h("div", null, h("h3", null, "Depends on"), linkList(idx, idx.parents(id))),
      h("div", null, h("h3", null, "Referenced by"), linkList(idx, idx.children(id)))),
    h("h3", null, "Lineage ", h("span", { class: "muted small" }, "two steps up and down")),
    h("div", { class: "graph-wrap", "data-testid": "docs-lineage" }, lineage(idx, idx.neighbourhood(id, 2), id)),
    tests.length ? [h("h3", null, "Data tests"), h("ul", { class: "docs-links", "data-testid": "docs-tests" },
      tests.map((t) => h("li", null, h("code", null, t.name))))] : null,
    codeSection(n),
  ];
}

export function overviewPage(idx: DocsIndex): Child {
  const counts = new Map<string, number>();
  for (const n of idx.nodes.values()) counts.set(n.resource_type, (counts.get(n.resource_type) ?? 0) + 1);
  const tests = Object.values(idx.data.manifest.nodes ?? {}).filter((n) => n.resource_type === "test").length;
  const overview = idx.overview();
  return [
    h("h1", null, idx.projectName),
    overview
      ? h("div", { class: "docs-md" }, markdown(overview))
      : h("p", null, "Pick a model or source on the left, search by name, description or column, or open the ",
          h("a", { href: "#!/graph" }, "lineage graph"), "."),
    h("dl", { class: "kv", "data-testid": "docs-counts" },
      [...counts.entries()].sort().map(([type, count]) => [h("dt", null, `${type}s`), h("dd", null, String(count))]),
      h("dt", null, "tests"), h("dd", null, String(tests))),
    h("p", { class: "muted small" }, `Generated ${idx.data.manifest.metadata?.generated_at ?? "–"}`,
      idx.data.catalog ? "" : " · no catalog.json: column types are the documented ones"),
  ];
}

export function graphPage(idx: DocsIndex): Child {
  const ids = new Set([...idx.nodes.keys()].filter((id) => idx.nodes.get(id)!.resource_type !== "analysis"));
  return [h("h1", null, "Lineage"), h("div", { class: "graph-wrap", "data-testid": "docs-graph" }, lineage(idx, ids))];
}

// Nodes whose name matches `query` first, then those whose description or column names do.
export function searchPage(idx: DocsIndex, query: string): Child {
  const q = query.trim().toLowerCase();
  const scored: [number, ManifestNode][] = [];
  for (const n of idx.nodes.values()) {
    const name = (n.resource_type === "source" ? `${n.source_name}.${n.name}` : n.name).toLowerCase();
    const columns = Object.keys(n.columns ?? {}).concat(Object.keys(idx.catalogOf(n.unique_id)?.columns ?? {}));
    const score = name === q ? 0 : name.includes(q) ? 1 : (n.description ?? "").toLowerCase().includes(q) ? 2
      : columns.some((c) => c.toLowerCase().includes(q)) ? 3 : -1;
    if (score >= 0) scored.push([score, n]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].name.localeCompare(b[1].name));
  return [
    h("h1", null, `Search: ${query}`),
    scored.length
      ? h("ul", { class: "docs-results", "data-testid": "docs-results" }, scored.map(([score, n]) => h("li", null,
          h("a", { href: nodeHref(n), class: "docs-link" }, n.resource_type === "source" ? `${n.source_name}.${n.name}` : n.name), " ",
          typePill(n), score === 3 ? h("span", { class: "muted small" }, " (a column matches)") : null,
          n.description ? h("div", { class: "muted small" }, n.description.split("\n")[0]) : null)))
      : h("p", { class: "muted" }, "Nothing matches."),
  ];
}
