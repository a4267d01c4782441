// Pipelines: schedule, next run, paused toggle and the last 25 runs as coloured squares.
import { enc, get, post, type Pipeline } from "../api";
import { errorBox, fmtTime, h, link, mount, stateBadge, type Child } from "../dom";
import type { Page, PageContext } from "../router";

function recentSquares(p: Pipeline): HTMLElement {
  // Oldest on the left, newest on the right, as a timeline reads.
  const runs = [...p.recent_runs].reverse();
  return h("div", { class: "squares", "data-testid": "recent-runs" },
    runs.length === 0 ? h("span", { class: "muted" }, "no runs yet") : null,
    runs.map((r) =>
      h("a", { href: `#/pipelines/${enc(p.name)}/grid?run=${enc(r.run_id)}`, class: "sq-link" },
        stateBadge(r.state, `${r.run_id}\n${r.state} · ${fmtTime(r.logical_date)}`))));
}

export function pipelinesPage(ctx: PageContext): Page {
  let error: unknown = null;
  const toggle = async (p: Pipeline, input: HTMLInputElement) => {
    input.disabled = true;
    try {
      await post(`/pipelines/${enc(p.name)}/${input.checked ? "unpause" : "pause"}`);
      error = null;
    } catch (err) {
      error = err;
    }
    await page.refresh();
  };
  const row = (p: Pipeline): HTMLElement => {
    const input = h("input", { type: "checkbox", checked: !p.paused, "aria-label": `${p.name} active`, "data-testid": "pause-toggle" });
    input.addEventListener("change", () => void toggle(p, input));
    return h("tr", { "data-pipeline": p.name },
      h("td", null, h("label", { class: "switch", title: p.paused ? "Paused: click to unpause" : "Active: click to pause" }, input, h("span", { class: "slider" }))),
      h("td", null, link(`#/pipelines/${enc(p.name)}/grid`, h("strong", null, p.name)),
        p.description ? h("div", { class: "muted small" }, p.description) : null),
      h("td", null, p.schedule ? h("code", null, p.schedule) : null,
        p.schedule && p.dataset_schedule ? h("span", { class: "muted small" }, " or ") : null,
        p.dataset_schedule ? link(`#/datasets?uri=${enc(p.dataset_uris?.[0] ?? "")}`,
            h("span", { class: "muted small" }, "datasets: "), h("code", { "data-testid": "dataset-schedule" }, p.dataset_schedule))
        : null,
        !p.schedule && !p.dataset_schedule ? h("span", { class: "muted" }, "manual") : null,
        p.timezone && p.timezone !== "UTC" ? h("div", { class: "muted small" }, p.timezone) : null),
      h("td", null, p.paused ? h("span", { class: "muted" }, "paused")
        : !p.schedule && p.dataset_schedule ? h("span", { class: "muted small" }, "on dataset updates") : fmtTime(p.next_run)),
      h("td", { class: "num" }, p.task_count),
      h("td", { class: "num" }, p.active_runs),
      h("td", null, recentSquares(p)),
      h("td", { class: "actions" },
        link(`#/pipelines/${enc(p.name)}/trigger`, h("span", { class: "btn small" }, "▶ Trigger")),
        link(`#/pipelines/${enc(p.name)}/graph`, h("span", { class: "btn small ghost" }, "Graph"))));
  };
  const page: Page = {
    interval: 2000,
    async refresh() {
      const data = await get<{ pipelines: Pipeline[] }>("/pipelines");
      const body: Child[] = data.pipelines.length
        ? [h("table", { class: "table", "data-testid": "pipelines" },
            h("thead", null, h("tr", null, ["On", "Pipeline", "Schedule", "Next run", "Tasks", "Active", "Last 25 runs", ""].map((t) => h("th", null, t)))),
            h("tbody", null, data.pipelines.map(row)))]
        : [h("p", { class: "muted" }, "No pipelines in this project (add a file under pipelines/).")];
      mount(ctx.root, h("h1", null, "Pipelines"), error ? errorBox(error) : null, ...body);
    },
  };
  return page;
}
