// The documentation site's data: dbt's manifest.json and catalog.json (embedded in the page by
// `strata docs generate --static`, else fetched from beside it), indexed for the pages.

export interface ManifestColumn {
  name: string;
  description?: string;
  data_type?: string | null;
  tags?: string[];
}

export interface ManifestNode {
  unique_id: string;
  name: string;
  resource_type: string;
  package_name?: string;
  original_file_path?: string;
  description?: string;
  columns?: Record<string, ManifestColumn>;
  config?: { materialized?: string; tags?: string[] };
  tags?: string[];
  meta?: Record<string, unknown>;
  depends_on?: { nodes?: string[] };
  raw_code?: string;
  compiled_code?: string;
  language?: string;
  database?: string | null;
  schema?: string;
  alias?: string;
  identifier?: string;
  relation_name?: string | null;
  source_name?: string;
  source_description?: string;
  loader?: string;
  test_metadata?: { name: string; kwargs?: Record<string, unknown> } | null;
  column_name?: string | null;
  attached_node?: string | null;
  owner?: { name?: string | null; email?: string | null };
  type?: string;
  url?: string | null;
  block_contents?: string;
}

export interface Manifest {
  metadata?: { project_name?: string; generated_at?: string; dbt_version?: string; adapter_type?: string };
  nodes?: Record<string, ManifestNode>;
  sources?: Record<string, ManifestNode>;
  exposures?: Record<string, ManifestNode>;
  docs?: Record<string, ManifestNode>;
}

export interface CatalogColumn {
  type: string;
  index: number;
  name: string;
  comment?: string | null;
}

export interface CatalogEntry {
  metadata: { type?: string; schema?: string; name?: string; database?: string | null; owner?: string | null; comment?: string | null };
  columns: Record<string, CatalogColumn>;
  stats?: Record<string, { label: string; value: unknown; include: boolean; description?: string }>;
}

export interface Catalog {
  metadata?: { generated_at?: string };
  nodes?: Record<string, CatalogEntry>;
  sources?: Record<string, CatalogEntry>;
}

export interface DocsData {
  manifest: Manifest;
  catalog: Catalog | null;
}

// The page's data: the JSON in <script id="strata-docs-data"> when the page is static, else
// manifest.json and catalog.json fetched from the page's folder (catalog.json may be missing).
export async function loadDocsData(): Promise<DocsData> {
  const embedded = document.getElementById("strata-docs-data");
  if (embedded?.textContent) return JSON.parse(embedded.textContent) as DocsData;
  const manifestRes = await fetch("manifest.json", { cache: "no-store" });
  if (!manifestRes.ok) {
    throw Object.assign(new Error(`manifest.json could not be read (HTTP ${manifestRes.status})`), {
      hint: "run `strata docs generate`, then `strata docs serve` (or open static_index.html from `strata docs generate --static`)",
    });
  }
  const manifest = (await manifestRes.json()) as Manifest;
  const catalogRes = await fetch("catalog.json", { cache: "no-store" });
  return { manifest, catalog: catalogRes.ok ? ((await catalogRes.json()) as Catalog) : null };
}

// Resource types with a page of their own (tests are shown on the node they check).
const kPaged = new Set(["model", "seed", "snapshot", "source", "analysis", "exposure"]);

// The nodes with pages, their edges and tests, and the catalog by unique id. Immutable once built.
export class DocsIndex {
  readonly nodes = new Map<string, ManifestNode>();
  readonly projectName: string;
  private readonly parentsOf = new Map<string, string[]>();
  private readonly childrenOf = new Map<string, string[]>();
  private readonly testsOf = new Map<string, ManifestNode[]>();
  private readonly catalog = new Map<string, CatalogEntry>();

  constructor(readonly data: DocsData) {
    const m = data.manifest;
    this.projectName = m.metadata?.project_name ?? "dbt project";
    const all = [...Object.values(m.nodes ?? {}), ...Object.values(m.sources ?? {}), ...Object.values(m.exposures ?? {})];
    for (const n of all) if (kPaged.has(n.resource_type)) this.nodes.set(n.unique_id, n);
    for (const n of all) {
      const deps = (n.depends_on?.nodes ?? []).filter((d) => this.nodes.has(d));
      if (n.resource_type === "test") {
        const target = n.attached_node ?? deps[0];
        if (target) this.push(this.testsOf, target, n);
        continue;
      }
      if (!this.nodes.has(n.unique_id)) continue;
      for (const d of deps) {
        this.push(this.parentsOf, n.unique_id, d);
        this.push(this.childrenOf, d, n.unique_id);
      }
    }
    for (const [id, entry] of [...Object.entries(data.catalog?.nodes ?? {}), ...Object.entries(data.catalog?.sources ?? {})]) {
      this.catalog.set(id, entry);
    }
  }

  private push<T>(map: Map<string, T[]>, key: string, value: T): void {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }

  parents(id: string): string[] {
    return this.parentsOf.get(id) ?? [];
  }
  children(id: string): string[] {
    return this.childrenOf.get(id) ?? [];
  }
  tests(id: string): ManifestNode[] {
    return this.testsOf.get(id) ?? [];
  }
  catalogOf(id: string): CatalogEntry | undefined {
    return this.catalog.get(id);
  }

  // The nodes within `depth` steps up and down of `id` (itself included).
  neighbourhood(id: string, depth: number): Set<string> {
    const out = new Set<string>([id]);
    for (const step of [(x: string) => this.parents(x), (x: string) => this.children(x)]) {
      let frontier = [id];
      for (let d = 0; d < depth && frontier.length; ++d) {
        const next: string[] = [];
        for (const f of frontier)
          for (const n of step(f))
            if (!out.has(n)) {
              out.add(n);
              next.push(n);
            }
        frontier = next;
      }
    }
    return out;
  }

  // The `__overview__` doc block of the project (else of any package), as dbt's docs show it.
  overview(): string | undefined {
    const docs = Object.values(this.data.manifest.docs ?? {}).filter((d) => d.name === "__overview__");
    const own = docs.find((d) => d.package_name === this.projectName) ?? docs[0];
    return own?.block_contents;
  }
}

// The relation a node builds or reads: "database.schema.identifier" without the quotes.
export function relationOf(n: ManifestNode): string {
  if (n.relation_name) return n.relation_name.replaceAll('"', "").replaceAll("`", "");
  const name = n.resource_type === "source" ? n.identifier ?? n.name : n.alias ?? n.name;
  return [n.database, n.schema, name].filter((p) => p).join(".");
}

// The page's address of a node: dbt docs' "#!/model/model.pkg.name" form.
export function nodeHref(n: Pick<ManifestNode, "resource_type" | "unique_id">): string {
  return `#!/${n.resource_type}/${encodeURIComponent(n.unique_id)}`;
}
