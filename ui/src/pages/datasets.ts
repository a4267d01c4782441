// Datasets: each dataset's producing tasks, consuming pipelines and events (Airflow's Datasets
// view); the selected dataset's latest events, and a form to record an update from here.
import { enc, get, post, type Dataset, type DatasetEvent } from "../api";
import { errorBox, fmtTime, h, link, mount, type Child } from "../dom";
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
  const row = (d: Dataset): HTMLElement => {
    const pick = h("a", { href: `#/datasets?uri=${enc(d.uri)}` }, h("code", null, d.uri));
    pick.addEventListener("click", (ev) => {
      ev.preventDefault();
      selected = d.uri;
      setQuery({ uri: d.uri });
      void page.refresh();
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
      mount(ctx.root, h("h1", null, "Datasets"), error ? errorBox(error) : null, body, detail);
    },
  };
  return page;
}
