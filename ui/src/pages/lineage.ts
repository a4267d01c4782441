// Lineage: sources → bronze → silver → gold as a graph; a clicked node shows its SQL, columns,
// tests with their latest results, and a preview of its rows.
import { enc, get, type DbtNode, type DbtNodeDetail, type Preview } from "../api";
import { errorBox, fmtTime, h, mount, type Child } from "../dom";
import { drawDag } from "../layout";
import type { Page, PageContext } from "../router";
import { setQuery } from "./common";

const layerRank: Record<string, number> = { source: 0, bronze: 0, silver: 1, gold: 2 };
const layerOrder = ["source", "bronze", "silver", "gold", "other"];

function testState(status: string | null | undefined): string {
  return status === "pass" ? "success" : status === "warn" ? "up_for_retry" : status === "fail" || status === "error" ? "failed" : "none";
}

export function lineagePage(ctx: PageContext): Page {
  let selected: string | null = ctx.query.get("node");
  let sqlMode: "compiled" | "raw" = "compiled";
  const canvas = h("div", { class: "graph-wrap", "data-testid": "lineage" });
  const detail = h("aside", { class: "detail wide", "data-testid": "node-detail" });
  let nodes: DbtNode[] = [];
  let edges: { from: string; to: string }[] = [];

  const preview = async (schema: string, relation: string, into: HTMLElement) => {
    mount(into, h("p", { class: "muted" }, "Loading rows…"));
    try {
      const p = await get<Preview>(`/relations/${enc(schema)}/${enc(relation)}/preview?limit=20`);
      mount(into, h("div", { class: "scroll-x" }, h("table", { class: "table compact", "data-testid": "preview" },
        h("thead", null, h("tr", null, p.columns.map((c) => h("th", { title: c.type }, c.name)))),
        h("tbody", null, p.rows.map((r) => h("tr", null, r.map((v) => h("td", null, v === null ? h("span", { class: "muted" }, "null") : v))))))),
        h("div", { class: "muted small" }, `${p.row_count} rows shown`));
    } catch (err) {
      mount(into, errorBox(err));
    }
  };

  const showDetail = async () => {
    if (!selected) {
      mount(detail, h("p", { class: "muted" }, "Click a node for its SQL, columns, tests and latest results."));
      return;
    }
    try {
      const n = await get<DbtNodeDetail>(`/dbt/nodes/${enc(selected)}`);
      const code = sqlMode === "compiled" ? n.compiled_code || n.raw_code : n.raw_code;
      const previewBox = h("div", { class: "preview" });
      const canPreview = n.schema && n.relation && n.resource_type !== "test";
      const modeBtn = (mode: "compiled" | "raw", label: string) =>
        h("button", { class: sqlMode === mode ? "tab active" : "tab", onclick: () => { sqlMode = mode; void showDetail(); } }, label);
      const body: Child[] = [
        h("h2", null, n.name, " ", h("span", { class: `pill layer-${n.layer}` }, n.layer), " ", h("span", { class: "muted small" }, n.resource_type)),
        n.description ? h("p", null, n.description) : null,
        h("dl", { class: "kv" },
          h("dt", null, "Relation"), h("dd", null, h("code", null, n.schema && n.relation ? `${n.schema}.${n.relation}` : "–")),
          n.materialized ? [h("dt", null, "Materialized"), h("dd", null, n.materialized)] : null,
          n.path ? [h("dt", null, "File"), h("dd", null, n.path)] : null,
          h("dt", null, "Upstream"), h("dd", null, n.depends_on.length ? n.depends_on.map((d) => h("button", { class: "chip", onclick: () => pick(d) }, d.split(".").pop()!)) : "–"),
          h("dt", null, "Downstream"), h("dd", null, n.referenced_by.length ? n.referenced_by.map((d) => h("button", { class: "chip", onclick: () => pick(d) }, d.split(".").pop()!)) : "–")),
        h("h3", null, "Tests"),
        n.tests.length
          ? h("table", { class: "table compact", "data-testid": "node-tests" },
              h("thead", null, h("tr", null, ["Test", "Latest", "Failures", "When"].map((t) => h("th", null, t)))),
              h("tbody", null, n.tests.map((t) => h("tr", null, h("td", null, t.name),
                h("td", null, t.latest ? h("span", { class: `pill st st-${testState(t.latest.status)}` }, t.latest.status) : h("span", { class: "muted" }, "not run")),
                h("td", { class: "num" }, t.latest?.failures ?? "–"), h("td", null, fmtTime(t.latest?.at))))))
          : h("p", { class: "muted" }, "No tests."),
        h("h3", null, "Columns"),
        n.columns.length
          ? h("table", { class: "table compact" }, h("tbody", null, n.columns.map((c) =>
              h("tr", null, h("td", null, h("code", null, c.name)), h("td", { class: "muted" }, c.data_type ?? ""), h("td", null, c.description ?? "")))))
          : h("p", { class: "muted" }, "No documented columns."),
        code !== undefined ? [h("h3", null, "SQL ", h("span", { class: "tabs inline" }, modeBtn("compiled", "compiled"), modeBtn("raw", "source"))),
          h("pre", { class: "sql", "data-testid": "node-sql" }, code || "(none)")] : null,
        canPreview ? [h("h3", null, "Data ", h("button", { class: "btn small ghost", onclick: () => void preview(n.schema!, n.relation!, previewBox) }, "Preview rows")), previewBox] : null,
      ];
      mount(detail, body);
    } catch (err) {
      mount(detail, errorBox(err));
    }
  };

  const pick = (id: string) => {
    selected = id;
    setQuery({ node: id });
    draw();
    void showDetail();
  };

  const draw = () => {
    const shown = nodes.filter((n) => n.resource_type !== "test");
    shown.sort((a, b) => layerOrder.indexOf(a.layer) - layerOrder.indexOf(b.layer));
    const byId = new Map(shown.map((n) => [n.unique_id, n]));
    const svg = drawDag(shown.map((n) => ({
      id: n.unique_id,
      label: n.name,
      sublabel: `${n.resource_type}${n.materialized ? ` · ${n.materialized}` : ""}${n.test_status ? ` · tests ${n.test_status}` : ""}`,
      cls: `layer-${n.layer}`,
      stripe: n.test_status ? `stripe st st-${testState(n.test_status)}` : undefined,
      title: `${n.unique_id}\n${n.layer}${n.schema ? ` · ${n.schema}.${n.relation}` : ""}`,
      selected: n.unique_id === selected,
      onClick: () => pick(n.unique_id),
    })), edges, (id) => layerRank[byId.get(id)?.layer ?? ""] ?? 0);
    mount(canvas, svg);
  };

  const legend = h("div", { class: "legend" }, layerOrder.map((l) => h("span", { class: `pill layer-${l}` }, l)));
  const page: Page = {
    interval: 5000,
    async refresh() {
      const g = await get<{ nodes: DbtNode[]; edges: { from: string; to: string }[] }>("/dbt/graph");
      const first = nodes.length === 0;
      nodes = g.nodes;
      edges = g.edges;
      if (!ctx.root.contains(canvas)) mount(ctx.root, h("h1", null, "Lineage"), legend, h("div", { class: "split" }, canvas, detail));
      draw();
      if (first) await showDetail();
    },
  };
  return page;
}
