// Gantt: when each task of a run started and ended, on one time axis (SVG).
import { enc, get, type PipelineDetail, type RunSummary, type TaskInstance } from "../api";
import { fmtDuration, fmtTime, h, ms, mount, s } from "../dom";
import type { Page, PageContext } from "../router";
import { pipelineHeader, runPicker, setQuery } from "./common";

const LABEL_W = 220;
const ROW_H = 24;
const CHART_W = 760;

function niceStep(spanMs: number): number {
  const steps = [100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000];
  return steps.find((st) => spanMs / st <= 8) ?? 7200000;
}

function chart(run: RunSummary, tis: TaskInstance[]): SVGSVGElement {
  const now = Date.now();
  const started = tis.filter((t) => ms(t.start_at) !== null);
  const t0 = ms(run.start_at) ?? Math.min(now, ...started.map((t) => ms(t.start_at)!));
  const t1 = Math.max(t0 + 1000, ms(run.end_at) ?? now, ...started.map((t) => ms(t.end_at) ?? now));
  const span = t1 - t0;
  const x = (t: number) => LABEL_W + ((t - t0) / span) * CHART_W;
  const height = 30 + tis.length * ROW_H + 10;
  const svg = s("svg", { class: "gantt", width: LABEL_W + CHART_W + 20, height, viewBox: `0 0 ${LABEL_W + CHART_W + 20} ${height}` });
  const step = niceStep(span);
  for (let t = 0; t <= span; t += step) {
    const xx = x(t0 + t);
    svg.append(s("line", { x1: xx, x2: xx, y1: 22, y2: height - 6, class: "tick" }),
      s("text", { x: xx + 3, y: 14, class: "tick-label" }, fmtDuration(t / 1000)));
  }
  tis.forEach((t, i) => {
    const y = 30 + i * ROW_H;
    svg.append(s("text", { x: 8, y: y + 15, class: "label" }, t.group ? `${t.group} › ${t.task_id}` : t.task_id));
    const a = ms(t.start_at);
    if (a === null) {
      svg.append(s("text", { x: LABEL_W + 4, y: y + 15, class: "sublabel" }, t.state));
      return;
    }
    const b = ms(t.end_at) ?? now;
    svg.append(s("rect", {
      x: x(a), y: y + 3, width: Math.max(2, x(b) - x(a)), height: ROW_H - 7, rx: 3,
      class: `st st-${t.state}`, "data-task": t.task_id,
    }, s("title", null, `${t.task_id}: ${t.state}\n${fmtTime(t.start_at)} → ${fmtTime(t.end_at)}\n${fmtDuration((b - a) / 1000)}`)));
  });
  return svg;
}

export function ganttPage(ctx: PageContext): Page {
  const name = ctx.params.name;
  let runId: string | null = ctx.query.get("run");
  const page: Page = {
    interval: 2000,
    async refresh() {
      const detail = await get<PipelineDetail>(`/pipelines/${enc(name)}`);
      if (!runId && detail.recent_runs.length) runId = detail.recent_runs[0].run_id;
      const head = pipelineHeader(name, "gantt");
      if (!runId) {
        mount(ctx.root, head, h("p", { class: "muted" }, "No runs yet."));
        return;
      }
      const [runRes, tis] = await Promise.all([
        get<{ run: RunSummary }>(`/runs/${enc(runId)}?pipeline=${enc(name)}`),
        get<{ task_instances: TaskInstance[] }>(`/runs/${enc(runId)}/tasks?pipeline=${enc(name)}`),
      ]);
      const picker = runPicker(detail.recent_runs.map((r) => ({ ...r, pipeline: name })), runId, (id) => {
        runId = id;
        setQuery({ run: id });
        void page.refresh();
      });
      const r = runRes.run;
      mount(ctx.root, head,
        h("div", { class: "toolbar" }, picker,
          h("span", { class: "muted" }, `started ${fmtTime(r.start_at)} · ${fmtDuration(r.duration_seconds)}`)),
        h("div", { class: "gantt-wrap", "data-testid": "gantt" }, chart(r, tis.task_instances)));
    },
  };
  return page;
}
