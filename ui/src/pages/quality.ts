// Data quality: the tests of each model with pass / warn / fail over the last runs.
import { enc, get, type TestsOverTime } from "../api";
import { fmtTime, h, mount } from "../dom";
import type { Page, PageContext } from "../router";

const statusState: Record<string, string> = { pass: "success", warn: "up_for_retry", fail: "failed", error: "failed", skipped: "skipped" };

export function qualityPage(ctx: PageContext): Page {
  return {
    interval: 5000,
    async refresh() {
      const data = await get<TestsOverTime>("/dbt/tests?runs=20");
      const runs = [...data.runs].reverse(); // oldest left
      const byModel = new Map<string, TestsOverTime["tests"]>();
      for (const t of data.tests) {
        const key = t.model ?? "(no model)";
        const list = byModel.get(key) ?? [];
        list.push(t);
        byModel.set(key, list);
      }
      const latest = { pass: 0, warn: 0, fail: 0 };
      for (const t of data.tests) {
        const last = runs.length ? t.results.find((r) => r.run_id === runs[runs.length - 1].run_id) : undefined;
        if (last?.status === "pass") latest.pass++;
        else if (last?.status === "warn") latest.warn++;
        else if (last) latest.fail++;
      }
      const cell = (t: TestsOverTime["tests"][number], runId: string) => {
        const r = t.results.find((x) => x.run_id === runId);
        const st = r ? statusState[r.status] ?? "failed" : null;
        return h("td", { class: "cell", "data-status": r?.status ?? "none" },
          h("span", { class: `sq ${st ? `st st-${st}` : "empty"}`, title: r ? `${t.name}: ${r.status}${r.failures ? ` (${r.failures} failing rows)` : ""}\n${fmtTime(r.at)}${r.message ? `\n${r.message}` : ""}` : "not run" }));
      };
      mount(ctx.root, h("h1", null, "Data quality"),
        h("div", { class: "summary" },
          h("span", { class: "pill st st-success" }, `${latest.pass} pass`),
          h("span", { class: "pill st st-up_for_retry" }, `${latest.warn} warn`),
          h("span", { class: "pill st st-failed" }, `${latest.fail} fail`),
          h("span", { class: "muted small" }, ` in the latest run of ${data.tests.length} tests`)),
        data.tests.length === 0
          ? h("p", { class: "muted" }, "No test results yet: run a pipeline with build or test tasks.")
          : h("div", { class: "scroll-x" }, h("table", { class: "grid quality", "data-testid": "quality" },
              h("thead", null, h("tr", null, h("th", { class: "row-head" }, "Model / test"),
                runs.map((r) => h("th", { class: "run-col", title: `${r.run_id}\n${fmtTime(r.at)}` }, h("span", { class: "tiny" }, fmtTime(r.at).slice(5, 16)))))),
              h("tbody", null, [...byModel.entries()].map(([model, tests]) => [
                h("tr", { class: "group" }, h("th", { class: "row-head group" },
                  model.startsWith("model.") ? h("a", { href: `#/lineage?node=${enc(model)}` }, model.split(".").pop()!) : model),
                  runs.map(() => h("td", null))),
                tests.map((t) => h("tr", { class: "task" }, h("th", { class: "row-head task", style: "padding-left:24px" }, t.name), runs.map((r) => cell(t, r.run_id)))),
              ])))));
    },
  };
}
