// Graph: the DAG of one run, left to right, with live task states; groups collapse into one node.
import { enc, get, type PipelineDetail, type TaskInstance } from "../api";
import { h, mount } from "../dom";
import { drawDag, type DagNode, type Edge } from "../layout";
import type { Page, PageContext } from "../router";
import { pipelineHeader, runPicker, setQuery, worstState } from "./common";

// The node a task is drawn in: its outermost collapsed group, or itself.
function visibleId(group: string, task: string, collapsed: Set<string>): string {
  const parts = group ? group.split(".") : [];
  for (let d = 1; d <= parts.length; d++) {
    const path = parts.slice(0, d).join(".");
    if (collapsed.has(path)) return `group:${path}`;
  }
  return task;
}

export function graphPage(ctx: PageContext): Page {
  const name = ctx.params.name;
  let runId: string | null = ctx.query.get("run");
  let collapsed: Set<string> | null = null;
  const canvas = h("div", { class: "graph-wrap", "data-testid": "graph" });
  const toolbar = h("div", { class: "toolbar" });
  let detail: PipelineDetail | null = null;
  let states = new Map<string, TaskInstance>();

  const draw = () => {
    if (!detail) return;
    const d = detail;
    const groups = d.groups.map((g) => g.id);
    collapsed ??= new Set<string>();
    const coll = collapsed;
    const toggle = (g: string) => {
      if (coll.has(g)) coll.delete(g);
      else coll.add(g);
      draw();
    };
    mount(toolbar,
      runPicker(d.recent_runs.map((r) => ({ ...r, pipeline: name })), runId, (id) => {
        runId = id;
        setQuery({ run: id });
        void page.refresh();
      }),
      groups.length ? h("span", { class: "group-chips" }, "Groups: ",
        groups.map((g) => h("button", { class: "chip", "data-group": g, "aria-pressed": String(!coll.has(g)), onclick: () => toggle(g) },
          coll.has(g) ? "▸ " : "▾ ", g))) : null,
      runId ? h("a", { href: `#/pipelines/${enc(name)}/gantt?run=${enc(runId)}`, class: "btn small ghost" }, "Gantt") : null);

    const nodes = new Map<string, DagNode>();
    const members = new Map<string, string[]>();
    for (const t of d.tasks) {
      const id = visibleId(t.group, t.id, coll);
      if (id.startsWith("group:")) {
        const list = members.get(id) ?? [];
        list.push(t.id);
        members.set(id, list);
        continue;
      }
      const ti = states.get(t.id);
      nodes.set(id, {
        id,
        label: t.id,
        sublabel: `${t.kind}${ti ? ` · ${ti.state}` : ""}${ti && ti.try_number > 1 ? ` · try ${ti.try_number}` : ""}`,
        cls: "task-box",
        stripe: `stripe st st-${ti?.state ?? "none"}`,
        title: `${t.id} (${t.kind})\n${ti?.state ?? "no status"}${t.group ? `\ngroup ${t.group}` : ""}`,
        onClick: runId ? () => {
          location.hash = `#/pipelines/${enc(name)}/grid?run=${enc(runId!)}&task=${enc(t.id)}`;
        } : undefined,
      });
    }
    for (const [id, tasks] of members) {
      const path = id.slice("group:".length);
      const state = worstState(tasks.map((t) => states.get(t)?.state));
      nodes.set(id, {
        id,
        label: `▸ ${path}`,
        sublabel: `group · ${tasks.length} tasks${state ? ` · ${state}` : ""}`,
        cls: "group-box",
        stripe: `stripe st st-${state ?? "none"}`,
        title: `group ${path}: ${tasks.join(", ")}\nclick to expand`,
        onClick: () => toggle(path),
      });
    }
    const seen = new Set<string>();
    const edges: Edge[] = [];
    const groupOf = new Map(d.tasks.map((t) => [t.id, t.group]));
    for (const e of d.edges) {
      const from = visibleId(groupOf.get(e.from) ?? "", e.from, coll);
      const to = visibleId(groupOf.get(e.to) ?? "", e.to, coll);
      const key = `${from}\u0000${to}`;
      if (from === to || seen.has(key)) continue;
      seen.add(key);
      edges.push({ from, to });
    }
    // Keep the pipeline's topological order as the tie-break: tasks first, in order.
    const order = d.tasks.map((t) => visibleId(t.group, t.id, coll)).filter((id, i, all) => all.indexOf(id) === i);
    mount(canvas, drawDag(order.map((id) => nodes.get(id)!), edges));
  };

  const page: Page = {
    interval: 2000,
    async refresh() {
      detail = await get<PipelineDetail>(`/pipelines/${enc(name)}`);
      if (!runId && detail.recent_runs.length) runId = detail.recent_runs[0].run_id;
      if (runId) {
        const tis = await get<{ task_instances: TaskInstance[] }>(`/runs/${enc(runId)}/tasks?pipeline=${enc(name)}`);
        states = new Map(tis.task_instances.map((t) => [t.task_id, t]));
      } else {
        states = new Map();
      }
      if (!ctx.root.contains(canvas)) {
        mount(ctx.root, pipelineHeader(name, "graph"), toolbar,
          runId ? null : h("p", { class: "muted" }, "No runs yet: the graph shows the pipeline's tasks without states."), canvas);
      }
      draw();
    },
  };
  return page;
}
