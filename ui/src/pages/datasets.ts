// Datasets: each dataset's producing tasks, consuming pipelines and events (Airflow's Datasets
// view); the selected dataset's latest events, and a form to record an update from here.
import { enc, get, post, type Dataset, type DatasetEvent } from "../api";
import { errorBox, fmtTime, h, link, mount, type Child } from "../dom";
import { drawDag, type DagNode, type Edge } from "../layout";
import type { Page, PageContext } from "../router";
import { setQuery } from "./common";

function eventSource(e: DatasetEvent): Child {
  if (!e.source_pipeline) return h("span", { class: "muted" }, "API / command line");
  return link(`#/pipelines/${enc(e.source_pipeline)}/grid?run=${enc(e.source_run_id)}`,
    `${e.source_pipeline} · ${e.source_task_id}`);
}

function eventsTable(events: DatasetEvent[]): HTMLElement {
  if (!events.length) return h("p", { class: "muted" }, "No events yet.");
  return h("table", { class: "table", "data-testid": "dataset-events" },
    h("thead", null, h("tr", null, ["#", "At", "Source", "Extra"].map((t) => h("th", null, t)))),
    h("tbody", null, events.map((e) => h("tr", { "data-event": e.id },
      h("td", { class: "num" }, e.id),
      h("td", null, fmtTime(e.timestamp)),
      h("td", null, eventSource(e)),
      h("td", null, Object.keys(e.extra).length ? h("code", { class: "small" }, JSON.stringify(e.extra)) : null)))));
}

// Pipelines and datasets as one graph, as Airflow's Datasets view draws them: a producing pipeline →
// its dataset → the pipelines scheduled on it.
function datasetGraph(datasets: Dataset[], selected: string | null, pick: (uri: string) => void): SVGSVGElement {
  const nodes = new Map<string, DagNode>();
  const edges: Edge[] = [];
  const pipeline = (name: string) => {
    const id = `p:${name}`;
    if (!nodes.has(id))
      nodes.set(id, { id, label: name, sublabel: "pipeline", cls: "pipeline-node", onClick: () => { location.hash = `#/pipelines/${enc(name)}/grid`; } });
    return id;
  };
  for (const d of datasets) {
    const id = `d:${d.uri}`;
    nodes.set(id, { id, label: d.uri, sublabel: `dataset · ${d.total_events} events`, cls: "dataset-node", title: d.uri,
      selected: d.uri === selected, onClick: () => pick(d.uri) });
    for (const p of d.producers) edges.push({ from: pipeline(p.pipeline), to: id });
    for (const c of d.consumers) edges.push({ from: id, to: pipeline(c.pipeline) });
  }
  return drawDag([...nodes.values()], edges);
}

export function datasetsPage(ctx: PageContext): Page {
  let selected = ctx.query.get("uri");
  let error: unknown = null;
  const record = async (uri: string, extra: string) => {
    try {
      const parsed: unknown = extra.trim() ? JSON.parse(extra) : {};
      await post("/datasets/events", { uri, extra: parsed });
      error = null;
    } catch (err) {
      error = err;
    }
    await page.refresh();
  };
  const updateForm = (uri: string): HTMLElement => {
    const extra = h("input", { type: "text", placeholder: '{"rows": 42}', "aria-label": "Extra (JSON)", class: "grow" });
    const form = h("form", { class: "form inline", "data-testid": "record-event" },
      extra, h("button", { type: "submit", class: "btn small" }, "Record an update"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void record(uri, extra.value);
    });
    return form;
  };
  const select = (uri: string) => {
    selected = uri;
    setQuery({ uri });
    void page.refresh();
  };
  const row = (d: Dataset): HTMLElement => {
    const pick = h("a", { href: `#/datasets?uri=${enc(d.uri)}` }, h("code", null, d.uri));
    pick.addEventListener("click", (ev) => {
      ev.preventDefault();
      select(d.uri);
    });
    return h("tr", { "data-dataset": d.uri, class: d.uri === selected ? "selected" : "" },
      h("td", null, pick),
      h("td", null, d.producers.map((p) => h("div", null, link(`#/pipelines/${enc(p.pipeline)}/graph`, `${p.pipeline} · ${p.task}`)))),
      h("td", null, d.consumers.map((c) => h("div", null, link(`#/pipelines/${enc(c.pipeline)}/grid`, c.pipeline),
        c.schedule && c.schedule !== d.uri ? h("span", { class: "muted small" }, ` on ${c.schedule}`) : null))),
      h("td", { class: "num" }, d.total_events),
      h("td", null, d.last_event_at ? fmtTime(d.last_event_at) : h("span", { class: "muted" }, "never")));
  };
  const page: Page = {
    interval: 5000,
    async refresh() {
      const data = await get<{ datasets: Dataset[] }>("/datasets");
      let detail: Child = null;
      if (selected) {
        const events = await get<{ events: DatasetEvent[] }>(`/datasets/events?uri=${enc(selected)}&limit=50`);
        detail = h("section", { class: "card", "data-testid": "dataset-detail" },
          h("div", { class: "card-head" }, h("strong", null, selected), h("span", { class: "muted small" }, " · latest events")),
          updateForm(selected), eventsTable(events.events));
      }
      const body: Child = data.datasets.length
        ? h("table", { class: "table", "data-testid": "datasets" },
            h("thead", null, h("tr", null, ["Dataset", "Updated by", "Schedules", "Events", "Last update"].map((t) => h("th", null, t)))),
            h("tbody", null, data.datasets.map(row)))
        : h("p", { class: "muted" }, "No datasets: give tasks `outlets:` or schedule a pipeline on datasets (`schedule: [uri, …]`).");
      const graph = data.datasets.length
        ? h("div", { class: "scroll-x", style: "margin-bottom:12px", "data-testid": "dataset-graph" }, datasetGraph(data.datasets, selected, select))
        : null;
      mount(ctx.root, h("h1", null, "Datasets"), error ? errorBox(error) : null, graph, body, detail);
    },
  };
  return page;
}
