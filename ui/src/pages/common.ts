// Pieces shared by the pipeline pages: the tab bar and the run picker.
import { enc, type RunSummary } from "../api";
import { fmtTime, h, stateBadge } from "../dom";

export function pipelineHeader(name: string, active: string, ...extra: (HTMLElement | null)[]): HTMLElement {
  const tabs: [string, string][] = [["grid", "Grid"], ["graph", "Graph"], ["gantt", "Gantt"], ["trigger", "Trigger"]];
  return h("div", { class: "page-head" },
    h("h1", null, h("a", { href: "#/", class: "crumb" }, "Pipelines"), " / ", name),
    h("nav", { class: "tabs" },
      tabs.map(([id, label]) => h("a", { href: `#/pipelines/${enc(name)}/${id}`, class: id === active ? "tab active" : "tab" }, label))),
    ...extra);
}

// A <select> of runs (newest first); calls `onPick` with the chosen run id.
export function runPicker(runs: RunSummary[], selected: string | null, onPick: (runId: string) => void): HTMLElement {
  const select = h("select", { "aria-label": "Run", "data-testid": "run-picker" },
    runs.map((r) => {
      const opt = h("option", { value: r.run_id }, `${fmtTime(r.logical_date)} · ${r.type} · ${r.state}`);
      opt.selected = r.run_id === selected;
      return opt;
    }));
  select.addEventListener("change", () => onPick(select.value));
  const sel = runs.find((r) => r.run_id === selected);
  return h("label", { class: "picker" }, "Run ", select, sel ? stateBadge(sel.state) : null);
}

// Replaces the hash's query without creating a history entry or re-creating the page.
export function setQuery(query: Record<string, string | null>): void {
  const [path, qs] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(qs ?? "");
  for (const [k, v] of Object.entries(query)) {
    if (v === null) params.delete(k);
    else params.set(k, v);
  }
  const q = params.toString();
  history.replaceState(null, "", `#${path}${q ? `?${q}` : ""}`);
}

// The worst state of a set, for a collapsed group (what needs attention first).
const severity = ["failed", "upstream_failed", "up_for_retry", "running", "up_for_reschedule", "queued", "success", "skipped", "none"];
export function worstState(states: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const st of states) {
    if (!st) continue;
    if (best === null || severity.indexOf(st) < severity.indexOf(best)) best = st;
  }
  return best;
}
