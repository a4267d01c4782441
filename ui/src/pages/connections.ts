// Connections & syncs: per connection and stream, rows, bytes and seconds over the recent syncs
// (small bar charts), the cursor and the last error.
import { enc, get, type Connection, type StreamPoint } from "../api";
import { errorBox, fmtBytes, fmtCount, fmtDuration, fmtTime, h, mount, s, stateLabel } from "../dom";
import type { Page, PageContext } from "../router";

const W = 200;
const H = 44;

// Bars of one measure over time (oldest left), failed syncs in red.
function barChart(points: StreamPoint[], value: (p: StreamPoint) => number | null, fmt: (n: number) => string, label: string): HTMLElement {
  const values = points.map((p) => value(p) ?? 0);
  const max = Math.max(1, ...values);
  const bw = points.length ? Math.min(14, W / points.length) : W;
  const svg = s("svg", { class: "spark", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label },
    s("line", { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, class: "axis" }),
    points.map((p, i) => {
      const v = values[i];
      const bh = Math.max(1, (v / max) * (H - 4));
      return s("rect", { x: i * bw + 1, y: H - bh, width: Math.max(1, bw - 2), height: bh, class: p.status === "success" ? "bar-ok" : "bar-bad" },
        s("title", null, `${fmtTime(p.at)} · ${p.status}\n${label}: ${fmt(v)}`));
    }));
  const last = points.length ? fmt(values[values.length - 1]) : "–";
  return h("div", { class: "metric" }, h("div", { class: "metric-head" }, h("span", { class: "muted small" }, label), h("strong", null, last)), svg);
}

async function streamCard(conn: string, stream: { name: string; mode: string | null; cursor_field?: string | null }): Promise<HTMLElement> {
  const hist = await get<{ points: StreamPoint[] }>(`/connections/${enc(conn)}/streams/${enc(stream.name)}/history?limit=30`);
  const pts = hist.points;
  const last = pts.length ? pts[pts.length - 1] : null;
  const lastError = [...pts].reverse().find((p) => p.error);
  return h("div", { class: "card stream", "data-stream": stream.name },
    h("div", { class: "card-head" },
      h("strong", null, stream.name), " ", h("span", { class: "muted small" }, stream.mode ?? "", stream.cursor_field ? ` on ${stream.cursor_field}` : ""),
      last ? h("span", { class: "right" }, stateLabel(last.status)) : h("span", { class: "right muted small" }, "never synced")),
    h("div", { class: "metrics" },
      barChart(pts, (p) => p.rows, fmtCount, "rows"),
      barChart(pts, (p) => p.bytes, fmtBytes, "bytes"),
      barChart(pts, (p) => p.seconds, fmtDuration, "duration")),
    last ? h("div", { class: "muted small" }, `last sync ${fmtTime(last.at)}`, last.cursor ? ` · cursor ${last.cursor}` : "") : null,
    lastError ? h("div", { class: "error-box small" }, h("strong", null, `Last error (${fmtTime(lastError.at)}): `), lastError.error) : null);
}

async function connectionSection(c: Connection): Promise<HTMLElement> {
  if (c.error) {
    return h("section", { class: "conn" }, h("h2", null, c.name), h("div", { class: "muted small" }, c.file), errorBox(new Error(c.error)));
  }
  const streams = await Promise.all((c.streams ?? []).map((st) => streamCard(c.name, st)));
  return h("section", { class: "conn", "data-connection": c.name },
    h("h2", null, c.name, " ", c.last_sync ? stateLabel(c.last_sync.status) : null),
    h("div", { class: "muted small" },
      c.source ? `${c.source.host}:${c.source.port}/${c.source.database}` : "", " → ",
      c.destination ? `schema ${c.destination.schema}${c.destination.target ? ` (${c.destination.target})` : ""}` : "",
      c.last_sync ? ` · last sync ${fmtTime(c.last_sync.at)}` : " · never synced",
      ` · ${c.file}`),
    c.all_tables
      ? h("div", { class: "muted small", "data-testid": "all-tables" },
        "All tables: syncs every table of its schemas (no streams: list); a stream shows here once a sync has copied it.")
      : null,
    ...(c.warnings ?? []).map((w) => h("div", { class: "warn-box small", "data-testid": "connection-warning" }, w)),
    streams.length
      ? h("div", { class: "cards" }, streams)
      : h("p", { class: "muted" }, c.all_tables ? "No streams synced yet." : "No streams configured."));
}

export function connectionsPage(ctx: PageContext): Page {
  return {
    interval: 5000,
    async refresh() {
      const data = await get<{ connections: Connection[] }>("/connections");
      const sections = await Promise.all(data.connections.map(connectionSection));
      mount(ctx.root, h("h1", null, "Connections & syncs"),
        sections.length ? sections : h("p", { class: "muted" }, "No connections in this project (add a file under connections/)."));
    },
  };
}
