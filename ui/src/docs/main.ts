// The documentation site of `strata docs generate` (dbt docs): a sidebar with the project's files
// or the database's relations, search, and a page per node. Addresses are dbt docs' own
// ("#!/model/model.pkg.name"), so links into dbt docs keep working.
import { errorBox, h, mount, type Child } from "../dom";
import { DocsIndex, loadDocsData, nodeHref, type ManifestNode } from "./data";
import { graphPage, nodePage, overviewPage, searchPage } from "./pages";

interface Folder {
  folders: Map<string, Folder>;
  nodes: ManifestNode[];
}

function emptyFolder(): Folder {
  return { folders: new Map(), nodes: [] };
}

function place(root: Folder, path: string[], n: ManifestNode): void {
  let f = root;
  for (const part of path) {
    if (!f.folders.has(part)) f.folders.set(part, emptyFolder());
    f = f.folders.get(part)!;
  }
  f.nodes.push(n);
}

// Project view: package → the file's folders (sources: "Sources" → source name); database view:
// database → schema.
function tree(idx: DocsIndex, view: "project" | "database"): Folder {
  const root = emptyFolder();
  for (const n of idx.nodes.values()) {
    if (view === "database") {
      if (n.resource_type === "exposure" || n.resource_type === "analysis") continue;
      place(root, [n.database || "(default)", n.schema || "(default)"], n);
    } else if (n.resource_type === "source") {
      place(root, ["Sources", n.source_name ?? ""], n);
    } else if (n.resource_type === "exposure") {
      place(root, ["Exposures"], n);
    } else {
      const folders = (n.original_file_path ?? "").split("/").slice(0, -1);
      place(root, [n.package_name ?? idx.projectName, ...folders], n);
    }
  }
  return root;
}

function label(n: ManifestNode, view: "project" | "database"): string {
  if (view === "database") return n.resource_type === "source" ? n.identifier ?? n.name : n.alias ?? n.name;
  return n.name;
}

function renderFolder(f: Folder, view: "project" | "database", current: string | null, depth: number): Child[] {
  const folders = [...f.folders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, sub]) => {
    const holds = (x: Folder): boolean => x.nodes.some((n) => n.unique_id === current) || [...x.folders.values()].some(holds);
    return h("details", { open: depth <= 1 || holds(sub) },
      h("summary", null, name), h("div", { class: "docs-indent" }, renderFolder(sub, view, current, depth + 1)));
  });
  const nodes = [...f.nodes].sort((a, b) => label(a, view).localeCompare(label(b, view))).map((n) =>
    h("a", { href: nodeHref(n), class: n.unique_id === current ? "docs-item active" : "docs-item", title: n.unique_id },
      h("span", { class: `docs-dot docs-${n.resource_type}` }), label(n, view)));
  return [...folders, ...nodes];
}

function route(): { page: "overview" | "node" | "graph" | "search"; arg: string } {
  let hash = location.hash.replace(/^#!?\/?/, "");
  try {
    hash = decodeURIComponent(hash);
  } catch {
    // a malformed escape ("%"): the address as typed
  }
  if (hash.startsWith("search/")) return { page: "search", arg: hash.slice("search/".length) };
  if (hash === "graph") return { page: "graph", arg: "" };
  const slash = hash.indexOf("/");
  if (slash > 0) return { page: "node", arg: hash.slice(slash + 1) };
  return { page: "overview", arg: "" };
}

async function start(root: HTMLElement): Promise<void> {
  let idx: DocsIndex;
  try {
    idx = new DocsIndex(await loadDocsData());
  } catch (err) {
    mount(root, errorBox(err));
    return;
  }
  document.title = `${idx.projectName} · docs`;
  let view: "project" | "database" = "project";
  const trees = { project: tree(idx, "project"), database: tree(idx, "database") };
  const sidebar = h("nav", { class: "docs-tree", "data-testid": "docs-tree" });
  const main = h("main", { class: "docs-main" });
  const search = h("input", { type: "search", placeholder: "Search models, sources, columns…", "aria-label": "Search", "data-testid": "docs-search" });
  search.addEventListener("input", () => {
    const q = search.value.trim();
    location.hash = q ? `#!/search/${encodeURIComponent(q)}` : "#!/overview";
  });
  const tabs = h("span", { class: "tabs" });
  const render = () => {
    const r = route();
    const current = r.page === "node" ? r.arg : null;
    mount(tabs, (["project", "database"] as const).map((v) =>
      h("button", { class: v === view ? "tab active" : "tab", onclick: () => { view = v; render(); } }, v === "project" ? "Project" : "Database")));
    mount(sidebar, renderFolder(trees[view], view, current, 0));
    if (r.page !== "search" && document.activeElement !== search) search.value = "";
    const page = r.page === "node" ? nodePage(idx, r.arg) : r.page === "graph" ? graphPage(idx) : r.page === "search" ? searchPage(idx, r.arg) : overviewPage(idx);
    mount(main, page);
    if (r.page !== "search") window.scrollTo(0, 0);
  };
  mount(root,
    h("header", { class: "top" }, h("a", { class: "brand", href: "#!/overview" }, idx.projectName, " docs"),
      h("a", { href: "#!/graph", class: "docs-nav" }, "Lineage graph"), search),
    h("div", { class: "docs-layout" }, h("aside", { class: "docs-side" }, tabs, sidebar), main));
  window.addEventListener("hashchange", render);
  render();
}

void start(document.getElementById("docs")!);
