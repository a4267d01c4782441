// Grid: runs × tasks of one pipeline, groups collapsible, run duration bars; a selected cell shows
// its attempts, the log's tail and the clear/mark actions.
import { enc, get, post, type Attempt, type Grid, type GridInstance, type GridRun, type LogChunk, type RunSummary, type TaskInstance } from "../api";
import { errorBox, fmtDuration, fmtTime, h, link, mount, stateClass, stateLabel, type Child } from "../dom";
import type { Page, PageContext } from "../router";
import { pipelineHeader, setQuery, worstState } from "./common";

interface Row {
  kind: "group" | "task";
  id: string; // task id, or group path
  label: string;
  depth: number;
  taskIndexes: number[]; // the grid columns this row covers
}

// Rows in task order: each group appears before its first task, nested by the dot path.
function buildRows(tasks: Grid["tasks"], collapsed: Set<string>): Row[] {
  const rows: Row[] = [];
  const groupRows = new Map<string, Row>();
  tasks.forEach((t, i) => {
    const parts = t.group ? t.group.split(".") : [];
    let hidden = false;
    for (let d = 0; d < parts.length; d++) {
      const path = parts.slice(0, d + 1).join(".");
      let g = groupRows.get(path);
      if (!g) {
        g = { kind: "group", id: path, label: parts[d], depth: d, taskIndexes: [] };
        groupRows.set(path, g);
        if (!hidden) rows.push(g);
      }
      g.taskIndexes.push(i);
      if (collapsed.has(path)) hidden = true;
    }
    if (!hidden) rows.push({ kind: "task", id: t.id, label: t.id, depth: parts.length, taskIndexes: [i] });
  });
  return rows;
}

export function gridPage(ctx: PageContext): Page {
  const name = ctx.params.name;
  // Run ids are unique per pipeline, not across pipelines: every run URL names the pipeline.
  const scope = `?pipeline=${enc(name)}`;
  const collapsed = new Set<string>();
  let selRun: string | null = ctx.query.get("run");
  let selTask: string | null = ctx.query.get("task");
  let actionError: unknown = null;
  let actionNote = "";
  const table = h("div", { class: "grid-wrap" });
  const detail = h("aside", { class: "detail", "data-testid": "detail" });
  let lastGrid: Grid | null = null;
  let limit = Number(ctx.query.get("limit") ?? 25) || 25;
  const limitSelect = h("select", { "aria-label": "Runs shown", "data-testid": "grid-limit" },
    [25, 50, 100, 200].map((n) => {
      const opt = h("option", { value: String(n) }, `${n} runs`);
      opt.selected = n === limit;
      return opt;
    }));
  limitSelect.addEventListener("change", () => {
    limit = Number(limitSelect.value);
    setQuery({ limit: String(limit) });
    void page.refresh();
  });

  const select = (run: string | null, task: string | null) => {
    selRun = run;
    selTask = task;
    actionError = null;
    actionNote = "";
    setQuery({ run, task });
    if (lastGrid) drawGrid(lastGrid);
    void refreshDetail();
  };

  const drawGrid = (grid: Grid) => {
    const runs = [...grid.runs].reverse(); // oldest left
    const maxDur = Math.max(1, ...runs.map((r) => r.duration_seconds ?? 0));
    const rows = buildRows(grid.tasks, collapsed);
    const bar = (r: GridRun) => {
      const pct = Math.max(4, Math.round(((r.duration_seconds ?? 0) / maxDur) * 100));
      return h("th", { class: `run-col ${r.run_id === selRun ? "sel" : ""}` },
        h("button", {
          class: "bar-btn",
          title: `${r.run_id}\n${r.state} · ${fmtDuration(r.duration_seconds)}`,
          "data-run": r.run_id,
          onclick: () => select(r.run_id, null),
        }, h("span", { class: `bar ${stateClass(r.state)}`, style: `height:${pct}%` })));
    };
    const cell = (r: GridRun, row: Row) => {
      const instances = row.taskIndexes.map((i) => r.task_instances[i]);
      const state = row.kind === "task" ? instances[0]?.state ?? null : worstState(instances.map((ti) => ti?.state));
      const selected = row.kind === "task" && r.run_id === selRun && row.id === selTask;
      const ti: GridInstance | null | undefined = instances[0];
      const title = row.kind === "task" && ti
        ? `${row.id} · ${ti.state}\ntry ${ti.try_number} · ${fmtDuration(ti.duration_seconds)}`
        : `${row.id} · ${state ?? "no status"}`;
      return h("td", { class: `cell ${selected ? "sel" : ""}`, "data-run": r.run_id, "data-task": row.id, "data-state": state ?? "none" },
        row.kind === "task" && !ti
          ? h("span", { class: "sq empty", title: `${row.id} · not created yet` })
          : h("button", {
              class: `sq ${stateClass(state)} ${state ? "" : "empty"}`,
              title,
              onclick: () => (row.kind === "task" ? select(r.run_id, row.id) : toggleGroup(row.id)),
            }));
    };
    const rowHead = (row: Row) =>
      h("th", { class: `row-head ${row.kind}`, style: `padding-left:${8 + row.depth * 16}px` },
        row.kind === "group"
          ? h("button", { class: "group-toggle", "data-group": row.id, "aria-expanded": String(!collapsed.has(row.id)), onclick: () => toggleGroup(row.id) },
              collapsed.has(row.id) ? "▸ " : "▾ ", row.label)
          : h("span", { class: "task-name" }, row.label));
    mount(table,
      runs.length === 0 ? h("p", { class: "muted" }, "No runs yet: trigger one.") : null,
      h("table", { class: "grid", "data-testid": "grid" },
        h("thead", null, h("tr", { class: "bars" }, h("th", { class: "row-head" }, h("span", { class: "muted small" }, `${runs.length} runs`)), runs.map(bar))),
        h("tbody", null, rows.map((row) => h("tr", { class: row.kind }, rowHead(row), runs.map((r) => cell(r, row)))))));
  };

  const toggleGroup = (path: string) => {
    if (collapsed.has(path)) collapsed.delete(path);
    else collapsed.add(path);
    if (lastGrid) drawGrid(lastGrid);
  };

  const act = async (label: string, path: string, body: unknown) => {
    try {
      const res = await post<{ cleared?: string[]; marked?: string[] }>(path, body);
      actionError = null;
      actionNote = `${label}: ${(res.cleared ?? res.marked ?? []).join(", ")}`;
    } catch (err) {
      actionError = err;
      actionNote = "";
    }
    await page.refresh();
  };

  const runDetail = (run: RunSummary): Child[] => {
    const base = `/runs/${enc(run.run_id)}`;
    return [
      h("h2", null, "Run ", stateLabel(run.state)),
      h("dl", { class: "kv" },
        h("dt", null, "Run id"), h("dd", null, h("code", null, run.run_id)),
        h("dt", null, "Type"), h("dd", null, run.type),
        h("dt", null, "Logical date"), h("dd", null, fmtTime(run.logical_date)),
        h("dt", null, "Started"), h("dd", null, fmtTime(run.start_at)),
        h("dt", null, "Ended"), h("dd", null, fmtTime(run.end_at)),
        h("dt", null, "Duration"), h("dd", null, fmtDuration(run.duration_seconds)),
        run.note ? [h("dt", null, "Note"), h("dd", { "data-testid": "run-note" }, run.note)] : null,
        h("dt", null, "Params"), h("dd", null, h("code", null, JSON.stringify(run.params ?? {})))),
      h("div", { class: "actions" },
        link(`#/pipelines/${enc(name)}/graph?run=${enc(run.run_id)}`, h("span", { class: "btn small ghost" }, "Graph")),
        link(`#/pipelines/${enc(name)}/gantt?run=${enc(run.run_id)}`, h("span", { class: "btn small ghost" }, "Gantt")),
        run.state === "running" || run.state === "queued"
          ? h("button", { class: "btn small danger", onclick: () => void act("Cancelled", `${base}/cancel${scope}`, undefined) }, "Cancel run")
          : null),
    ];
  };

  const taskDetail = async (runId: string, task: string): Promise<Child[]> => {
    const base = `/runs/${enc(runId)}/tasks/${enc(task)}`;
    const data = await get<{ task_instance: TaskInstance; attempts: Attempt[] }>(`${base}${scope}`);
    const ti = data.task_instance;
    const last = data.attempts.length ? data.attempts[data.attempts.length - 1] : null;
    let log: LogChunk | null = null;
    if (last) log = await get<LogChunk>(`${base}/logs/${last.try_number}${scope}&tail=200`);
    const finished = ["success", "failed", "upstream_failed", "skipped"].includes(ti.state);
    const pre = h("pre", { class: "log small-log", "data-testid": "log-tail" }, log ? log.content || "(empty log)" : "(no attempt yet)");
    return [
      h("h2", null, task, " ", stateLabel(ti.state)),
      h("dl", { class: "kv" },
        h("dt", null, "Kind"), h("dd", null, ti.kind),
        h("dt", null, "Group"), h("dd", null, ti.group || "–"),
        h("dt", null, "Try"), h("dd", null, `${ti.try_number} of ${ti.max_tries}`),
        h("dt", null, "Started"), h("dd", null, fmtTime(ti.start_at)),
        h("dt", null, "Duration"), h("dd", null, fmtDuration(ti.duration_seconds)),
        ti.next_retry_at ? [h("dt", null, ti.state === "up_for_reschedule" ? "Next poke" : "Next try"), h("dd", null, fmtTime(ti.next_retry_at))] : null,
        ti.note ? [h("dt", null, "Waiting for"), h("dd", { "data-testid": "ti-note" }, ti.note)] : null),
      h("div", { class: "actions" },
        h("button", { class: "btn small", disabled: !finished, onclick: () => void act("Cleared", `${base}/clear${scope}`, { downstream: false }) }, "Clear"),
        h("button", { class: "btn small", disabled: !finished, onclick: () => void act("Cleared", `${base}/clear${scope}`, { downstream: true }) }, "Clear + downstream"),
        h("button", { class: "btn small ok", onclick: () => void act("Marked success", `${base}/mark${scope}`, { state: "success" }) }, "Mark success"),
        h("button", { class: "btn small danger", onclick: () => void act("Marked failed", `${base}/mark${scope}`, { state: "failed" }) }, "Mark failed")),
      data.attempts.length
        ? h("table", { class: "table compact" },
            h("thead", null, h("tr", null, ["Try", "State", "Started", "Duration", "Exit", ""].map((t) => h("th", null, t)))),
            h("tbody", null, data.attempts.map((a) => h("tr", null,
              h("td", null, a.try_number), h("td", null, stateLabel(a.state)), h("td", null, fmtTime(a.start_at)),
              h("td", null, fmtDuration(a.duration_seconds)), h("td", null, a.exit_code ?? "–"),
              h("td", null, link(`#/logs/${enc(runId)}/${enc(task)}/${a.try_number}${scope}`, "Log"))))))
        : null,
      last?.error ? h("div", { class: "error-box" }, last.error) : null,
      h("h3", null, last ? `Log of try ${last.try_number} (last 200 lines) ` : "Log ",
        last ? link(`#/logs/${enc(runId)}/${enc(task)}/${last.try_number}${scope}`, "open full log ›") : null),
      pre,
    ];
  };

  const refreshDetail = async () => {
    const notes: Child[] = [actionError ? errorBox(actionError) : null, actionNote ? h("div", { class: "note" }, actionNote) : null];
    if (!selRun) {
      mount(detail, h("p", { class: "muted" }, "Click a square for a task's attempt, log and actions, or a bar for its run."), notes);
      return;
    }
    const run = lastGrid?.runs.find((r) => r.run_id === selRun);
    try {
      const body = selTask ? await taskDetail(selRun, selTask) : run ? runDetail(run) : [h("p", { class: "muted" }, "This run is not in the grid's range.")];
      mount(detail, notes, body);
      const pre = detail.querySelector("pre.log");
      if (pre) pre.scrollTop = pre.scrollHeight;
    } catch (err) {
      mount(detail, errorBox(err));
    }
  };

  const header = pipelineHeader(name, "grid", h("label", { class: "picker" }, limitSelect));
  const page: Page = {
    interval: 2000,
    async refresh() {
      const grid = await get<Grid>(`/pipelines/${enc(name)}/grid?limit=${limit}`);
      lastGrid = grid;
      if (!ctx.root.contains(table)) mount(ctx.root, header, h("div", { class: "split" }, table, detail));
      drawGrid(grid);
      await refreshDetail();
    },
  };
  return page;
}
