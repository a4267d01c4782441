// Browser tests of Strata's web UI. Usage: node run.mjs STRATA_BINARY OUTPUT_DIR
// Copies tests/ui/project to a temporary folder, prepares it with the real CLI (dbt compile, one
// run of each pipeline), starts a real `strata serve` on a free loopback port, and drives Debian's
// Chromium (headless, fresh profile) with playwright-core through every page: trigger a run and see
// it turn green in the grid, open a task's log (live tail, search, download), the graph, the gantt,
// connections, lineage (node details) and data quality; then the docs site of `strata docs generate`
// as `strata docs serve` serves it and as its static page opens from disk. Fails on any console error. Screenshots of
// each page go to OUTPUT_DIR. Bounded: every wait has a timeout and a watchdog ends it all at 4 min.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const [strataArg, outArg] = process.argv.slice(2);
if (!strataArg || !outArg) {
  console.error("usage: node run.mjs STRATA_BINARY OUTPUT_DIR");
  process.exit(2);
}
const strata = resolve(strataArg);
const outDir = resolve(outArg);
const chromiumPath = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";
const SECRET = "uitest-Pa55word-never-shown";

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "strata-ui-"));
const project = join(work, "project");
cpSync(join(here, "project"), project, { recursive: true });
const env = { ...process.env, UITEST_PG_PASSWORD: SECRET, NO_COLOR: "1" };

let server = null;
let docsServer = null;
let browser = null;
const results = [];
const consoleErrors = [];

const watchdog = setTimeout(() => {
  console.error("ui tests: watchdog: still running after 240 s, giving up");
  void cleanup().then(() => process.exit(1));
}, 240_000);

async function cleanup() {
  try {
    await browser?.close();
  } catch {
    /* already gone */
  }
  if (docsServer && docsServer.exitCode === null) docsServer.kill("SIGKILL");
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    const exited = await Promise.race([
      new Promise((r) => server.once("exit", () => r(true))),
      new Promise((r) => setTimeout(() => r(false), 10_000)),
    ]);
    if (!exited) server.kill("SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
}

function cli(args, { allowFail = false } = {}) {
  const res = spawnSync(strata, args, { env, encoding: "utf8", timeout: 120_000 });
  if (res.status !== 0 && !allowFail) {
    throw new Error(`strata ${args.join(" ")} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
  return res;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitFor(what, fn, timeoutMs = 30_000, everyMs = 200) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${Date.now() - t0} ms): ${err.message}`);
  }
}

async function main() {
  // The project: a manifest for lineage, and one run of each pipeline in the history.
  cli(["compile", "--project-dir", project]);
  const medallion = cli(["pipeline", "--project-dir", project, "run", "medallion", "--wait"], { allowFail: true });
  console.log(`prepare: medallion run exited ${medallion.status}`);
  cli(["pipeline", "--project-dir", project, "run", "ui_demo", "--wait"]);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = openSync(join(outDir, "serve.log"), "w");
  server = spawn(strata, ["serve", "--project-dir", project, "--port", String(port), "--workers", "4"], {
    env,
    stdio: ["ignore", log, log],
  });
  await waitFor("strata serve /healthz", async () => (await fetch(`${base}/healthz`)).ok, 30_000);
  const api = async (path) => {
    const res = await fetch(`${base}/api/v1${path}`);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.json();
  };

  const profile = mkdtempSync(join(work, "chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    timeout: 60_000,
  });
  browser = context;
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => consoleErrors.push(`${page.url()}: uncaught ${err.message}`));
  const shot = (name) => page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
  const noSecret = async () => check(!(await page.content()).includes(SECRET), "a secret appears in the page");

  await step("pipelines page lists the pipelines with schedule, toggle and recent runs", async () => {
    await page.goto(`${base}/`);
    await page.locator('[data-testid=pipelines] tr[data-pipeline="ui_demo"]').waitFor();
    await page.locator('tr[data-pipeline="medallion"]').waitFor();
    const squares = await page.locator('tr[data-pipeline="ui_demo"] [data-testid=recent-runs] .sq').count();
    check(squares >= 1, `expected the earlier run as a square, saw ${squares}`);
    check(await page.locator('tr[data-pipeline="ui_demo"] .sq.st-success').count() >= 1, "the earlier run is not green");
    await noSecret();
    await shot("01-pipelines");
  });

  await step("pause toggle pauses and unpauses through the API", async () => {
    const toggle = page.locator('tr[data-pipeline="medallion"] [data-testid=pause-toggle]');
    await toggle.waitFor({ state: "attached" });
    await page.locator('tr[data-pipeline="medallion"] .slider').click();
    await waitFor("medallion paused", async () => (await api("/pipelines/medallion")).paused === true, 10_000);
    await page.locator('tr[data-pipeline="medallion"] .slider').click();
    await waitFor("medallion unpaused", async () => (await api("/pipelines/medallion")).paused === false, 10_000);
  });

  // Submits ui_demo's trigger form with its defaults; the new run's id, from the grid it opens.
  const triggerFromForm = async () => {
    await page.goto(`${base}/#/pipelines/ui_demo/trigger`);
    await page.locator("[data-testid=trigger-form]").waitFor();
    await page.click("[data-testid=trigger-form] button[type=submit]");
    await page.waitForURL(/grid\?run=/);
    return new URLSearchParams(new URL(page.url()).hash.split("?")[1]).get("run");
  };

  let runId = null;
  await step("trigger form is built from the params and starts a run", async () => {
    await page.goto(`${base}/#/pipelines/ui_demo/trigger`);
    await page.locator("[data-testid=trigger-form]").waitFor();
    check(await page.locator("#param-label").getAttribute("type") === "text", "label is not a text field");
    check(await page.locator("#param-rows").getAttribute("type") === "number", "rows is not a number field");
    check(await page.locator("#param-loud").getAttribute("type") === "checkbox", "loud is not a checkbox");
    await page.fill("#param-label", "from-the-browser");
    await page.fill("#param-rows", "7");
    await shot("02-trigger");
    await page.click("[data-testid=trigger-form] button[type=submit]");
    await page.waitForURL(/#\/pipelines\/ui_demo\/grid\?run=/);
    runId = new URLSearchParams(new URL(page.url()).hash.split("?")[1]).get("run");
    check(runId && runId.startsWith("manual__"), `unexpected run id ${runId}`);
    const run = (await api(`/runs/${encodeURIComponent(runId)}`)).run;
    check(run.params.label === "from-the-browser" && run.params.rows === 7, `params not passed: ${JSON.stringify(run.params)}`);
  });

  await step("the triggered run turns green in the grid without a reload", async () => {
    check(runId, "no run");
    const cell = (task, state) => page.locator(`[data-testid=grid] td.cell[data-run="${runId}"][data-task="${task}"][data-state="${state}"]`);
    await cell("report", "success").waitFor({ timeout: 60_000 });
    for (const task of ["announce", "load_bronze", "count_orders", "check_customers", "check_orders"]) {
      check(await cell(task, "success").count() === 1, `${task} is not green`);
    }
    check(await page.locator(`button[data-run="${runId}"] .bar.st-success`).count() === 1, "the run's duration bar is not green");
    await shot("03-grid");
  });

  await step("groups in the grid collapse and expand", async () => {
    await page.click('button.group-toggle[data-group="load"]');
    await page.locator(`td.cell[data-run="${runId}"][data-task="load_bronze"]`).waitFor({ state: "detached" });
    check(await page.locator(`td.cell[data-run="${runId}"][data-task="load"][data-state="success"]`).count() === 1, "the collapsed group has no summary cell");
    await page.click('button.group-toggle[data-group="load"]');
    await page.locator(`td.cell[data-run="${runId}"][data-task="load_bronze"]`).waitFor();
  });

  await step("a grid cell shows the attempt, its log and the actions", async () => {
    await page.click(`td.cell[data-run="${runId}"][data-task="announce"] button`);
    await page.locator("[data-testid=log-tail]", { hasText: "starting from-the-browser" }).waitFor();
    const detail = await page.locator("[data-testid=detail]").innerText();
    for (const label of ["Clear", "Mark success", "Mark failed", "Try"]) check(detail.includes(label), `detail lacks ${label}`);
    await shot("04-grid-task");
  });

  await step("the logs page shows the full log with search and download", async () => {
    await page.click("[data-testid=detail] a:has-text('open full log')");
    await page.waitForURL(/#\/logs\//);
    await page.locator("[data-testid=log]", { hasText: "progress line 6" }).waitFor();
    await page.fill("[data-testid=log-search]", "progress line 3");
    await page.locator("[data-testid=log] mark", { hasText: "progress line 3" }).waitFor();
    check(await page.locator("[data-testid=log] mark").count() === 1, "search should match one line");
    const href = await page.locator("[data-testid=log-download]").getAttribute("href");
    const res = await page.request.get(`${base}${href}`);
    check(res.ok() && (await res.text()).includes("progress line 6"), "the download has not the whole log");
    await shot("05-logs");
  });

  await step("a running task's log is tailed live over SSE", async () => {
    const live = await triggerFromForm();
    await waitFor("announce's first attempt", async () =>
      (await api(`/runs/${encodeURIComponent(live)}/tasks/announce`)).attempts.length > 0, 20_000, 100);
    await page.goto(`${base}/#/logs/${encodeURIComponent(live)}/announce/1`);
    await page.locator("[data-testid=log]", { hasText: "starting" }).waitFor();
    const status = await page.locator("[data-testid=log-status]").innerText();
    await page.locator("[data-testid=log]", { hasText: "progress line 6" }).waitFor({ timeout: 20_000 });
    await page.locator("[data-testid=log-status]", { hasText: "finished" }).waitFor({ timeout: 20_000 });
    console.log(`     (log status when opened: "${status}")`);
    await waitFor("the second run to finish", async () => (await api(`/runs/${encodeURIComponent(live)}`)).run.state === "success", 30_000);
  });

  await step("cancelling a run from its detail fails it and shows why", async () => {
    const id = await triggerFromForm();
    await page.click(`button.bar-btn[data-run="${id}"]`);
    await page.locator("[data-testid=detail] button:has-text('Cancel run')").click();
    await page.locator("[data-testid=run-note]", { hasText: "cancelled through the API" }).waitFor({ timeout: 20_000 });
    check((await api(`/runs/${encodeURIComponent(id)}`)).run.state === "failed", "the cancelled run is not failed");
  });

  await step("graph shows the run's DAG left to right with states; groups collapse", async () => {
    await page.goto(`${base}/#/pipelines/ui_demo/graph?run=${encodeURIComponent(runId)}`);
    await page.locator('[data-testid=graph] g.node[data-id="report"]').waitFor();
    check(await page.locator("[data-testid=graph] g.node").count() === 6, "expected 6 task nodes");
    check(await page.locator("[data-testid=graph] g.node rect.st-success").count() === 6, "not every node is green");
    const x = async (id) => (await page.locator(`g.node[data-id="${id}"]`).getAttribute("transform")).match(/translate\(([\d.]+)/)[1] * 1;
    check(await x("announce") < await x("load_bronze") && await x("load_bronze") < await x("count_orders") && await x("count_orders") < await x("report"),
      "nodes are not laid out left to right");
    await shot("06-graph");
    await page.click('button.chip[data-group="checks"]');
    await page.locator('[data-testid=graph] g.node[data-id="group:checks"]').waitFor();
    check(await page.locator('g.node[data-id="check_orders"]').count() === 0, "a collapsed group's task is still drawn");
    await shot("06b-graph-collapsed");
  });

  await step("gantt shows a bar per task", async () => {
    await page.goto(`${base}/#/pipelines/ui_demo/gantt?run=${encodeURIComponent(runId)}`);
    await page.locator('[data-testid=gantt] rect[data-task="report"]').waitFor();
    check(await page.locator("[data-testid=gantt] rect[data-task]").count() === 6, "expected 6 bars");
    await shot("07-gantt");
  });

  await step("connections page lists the connection and its streams, without secrets", async () => {
    await page.goto(`${base}/#/connections`);
    await page.locator('section[data-connection="erp"] [data-stream="public.orders"]').waitFor();
    // legacy.yml writes its password in the file: a warning says where, never what.
    const warning = await page.locator('section[data-connection="legacy"] [data-testid=connection-warning]').innerText();
    check(warning.startsWith("connections/legacy.yml:9:13: warning: the source password is written"), `warning: ${warning}`);
    check(await page.locator('section[data-connection="erp"] [data-testid=connection-warning]').count() === 0,
      "erp takes its password from the environment");
    // crm has no streams: list: it is marked "all tables", and without sync history lists none.
    const crm = page.locator('section[data-connection="crm"]');
    await crm.locator("[data-testid=all-tables]").waitFor();
    check((await crm.innerText()).includes("No streams synced yet."), `crm: ${await crm.innerText()}`);
    check(await page.locator('section[data-connection="erp"] [data-testid=all-tables]').count() === 0,
      "erp lists its streams");
    await noSecret();
    await shot("08-connections");
  });

  await step("lineage shows bronze → silver → gold and a node's SQL, columns and tests", async () => {
    await page.goto(`${base}/#/lineage`);
    await page.locator('[data-testid=lineage] g.node[data-id="model.uitest.revenue_by_country"]').waitFor();
    for (const id of ["model.uitest.customers", "model.uitest.orders", "source.uitest.bronze.customers"]) {
      check(await page.locator(`g.node[data-id="${id}"]`).count() === 1, `no node ${id}`);
    }
    const x = async (id) => (await page.locator(`g.node[data-id="${id}"]`).getAttribute("transform")).match(/translate\(([\d.]+)/)[1] * 1;
    check(await x("source.uitest.bronze.orders") < await x("model.uitest.orders") && await x("model.uitest.orders") < await x("model.uitest.revenue_by_country"),
      "layers are not left to right");
    await page.click('g.node[data-id="model.uitest.revenue_by_country"]');
    await page.locator("[data-testid=node-sql]", { hasText: "sum(" }).waitFor();
    const detail = await page.locator("[data-testid=node-detail]").innerText();
    check(detail.includes("country") && detail.includes("not_null_revenue_by_country_revenue"), "columns or tests missing");
    await shot("09-lineage");
  });

  await step("data quality page shows the tests over runs", async () => {
    await page.goto(`${base}/#/quality`);
    await page.locator("h1", { hasText: "Data quality" }).waitFor();
    await page.locator(".summary").waitFor();
    await shot("10-quality");
  });

  await step("datasets page shows producers, consumers and events; recording an update triggers the consumer", async () => {
    await page.goto(`${base}/`);
    const schedule = page.locator('tr[data-pipeline="notify"] [data-testid=dataset-schedule]');
    check((await schedule.innerText()) === "warehouse://gold/marts", "notify's dataset schedule is not shown");
    await page.goto(`${base}/#/datasets`);
    const row = page.locator('[data-testid=datasets] tr[data-dataset="warehouse://gold/marts"]');
    await row.waitFor();
    const text = await row.innerText();
    check(text.includes("medallion · build_gold") && text.includes("notify"), `producer or consumer missing: ${text}`);
    const graph = page.locator("[data-testid=dataset-graph]");
    for (const id of ["p:medallion", "d:warehouse://gold/marts", "p:notify"])
      check(await graph.locator(`g.node[data-id="${id}"]`).count() === 1, `graph node ${id} missing`);
    check(await graph.locator('path.edge[data-from="p:medallion"][data-to="d:warehouse://gold/marts"]').count() === 1 &&
      await graph.locator('path.edge[data-from="d:warehouse://gold/marts"][data-to="p:notify"]').count() === 1,
      "graph edges producer → dataset → consumer missing");
    const before = (await api("/datasets/events?uri=warehouse://gold/marts")).events.length;
    const notifyRuns = async () => (await api("/pipelines/notify/runs")).runs;
    const runsBefore = (await notifyRuns()).length;
    await row.locator("a").first().click();
    await page.locator("[data-testid=dataset-detail]").waitFor();
    check(new URL(page.url()).hash.includes("uri=warehouse"), `the selection is not in the URL: ${page.url()}`);
    await page.fill("[data-testid=record-event] input", '{"rows": 3}');
    await page.click("[data-testid=record-event] button[type=submit]");
    await page.locator("[data-testid=dataset-events] tr", { hasText: "API / command line" }).first().waitFor();
    const events = (await api("/datasets/events?uri=warehouse://gold/marts")).events;
    check(events.length === before + 1 && events[0].extra.rows === 3, `event not recorded: ${JSON.stringify(events[0])}`);
    await waitFor("notify triggered by the update", async () => {
      const runs = await notifyRuns();
      return runs.length === runsBefore + 1 && runs[0].type === "dataset_triggered" && runs[0].state === "success";
    }, 30_000);
    await shot("11-datasets");
  });

  let docsBase = null;
  await step("docs generate writes the site and docs serve serves it", async () => {
    // `strata serve` holds the DuckDB file, which docs generate reads for the catalog: stopped first.
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    }
    const generated = cli(["docs", "generate", "--static", "--project-dir", project]);
    check(generated.stdout.includes("Catalog written to"), `docs generate printed: ${generated.stdout}`);
    const docsPort = await freePort();
    docsBase = `http://127.0.0.1:${docsPort}`;
    const docsLog = openSync(join(outDir, "docs-serve.log"), "w");
    docsServer = spawn(strata, ["docs", "serve", "--project-dir", project, "--port", String(docsPort)], {
      env,
      stdio: ["ignore", docsLog, docsLog],
    });
    await waitFor("strata docs serve", async () => (await fetch(`${docsBase}/manifest.json`)).ok, 20_000);
    check((await fetch(`${docsBase}/run_results.json`)).status === 404, "docs serve serves more than the docs");
  });

  await step("docs: a model's page shows its typed columns, tests, compiled code and lineage", async () => {
    check(docsBase, "no docs server");
    await page.goto(`${docsBase}/`);
    await page.locator("[data-testid=docs-counts]").waitFor();
    await page.locator('[data-testid=docs-tree] details:has(> summary:text-is("gold")) > summary').first().click();
    await page.click('[data-testid=docs-tree] a.docs-item[title="model.uitest.revenue_by_country"]');
    await page.waitForURL(/#!\/model\/model\.uitest\.revenue_by_country$/);
    await page.locator("[data-testid=docs-title]", { hasText: "revenue_by_country" }).waitFor();
    // Markdown: **bold** and _emphasis_, while snake_case names and count(*) stay as written.
    const description = page.locator("[data-testid=docs-description]");
    check(await description.locator("strong").innerText() === "country", "**country** is not bold");
    check(await description.locator("em").allInnerTexts().then((t) => t.join("|")) === "country", "_country_ is not emphasised (only it)");
    const text = await description.innerText();
    check(text.includes("customer_id and order_id") && text.includes("count(*) and sum(*)"), `description mangled: ${text}`);
    const country = await page.locator('[data-testid=docs-columns] tr[data-column="country"]').innerText();
    check(/VARCHAR/i.test(country), `the country column has no type from the catalog: ${country}`);
    const revenue = await page.locator('[data-testid=docs-columns] tr[data-column="revenue"] .docs-test').allInnerTexts();
    check(revenue.includes("N"), `revenue's not_null test is not shown: ${revenue}`);
    await page.click("button.tab:text-is('Compiled')");
    const code = await page.locator("[data-testid=docs-code]").innerText();
    check(code.includes("sum(") && !code.includes("{{"), `not the compiled code: ${code.slice(0, 200)}`);
    check(await page.locator('[data-testid=docs-lineage] g.node[data-id="model.uitest.orders"]').count() === 1, "the lineage lacks orders");
    await shot("11-docs-model");
    await page.click('[data-testid=docs-lineage] g.node[data-id="model.uitest.orders"]');
    await page.locator("[data-testid=docs-title]", { hasText: "orders" }).waitFor();
  });

  await step("docs: search finds models by name and by column", async () => {
    check(docsBase, "no docs server");
    await page.fill("[data-testid=docs-search]", "revenue");
    await page.locator("[data-testid=docs-results] a", { hasText: "revenue_by_country" }).waitFor();
    await page.fill("[data-testid=docs-search]", "country");
    await page.locator("[data-testid=docs-results] a:text-is(\"customers\")").waitFor();
    await shot("12-docs-search");
    await page.goto(`${docsBase}/#!/graph`);
    await page.locator('[data-testid=docs-graph] g.node[data-id="source.uitest.bronze.orders"]').waitFor();
  });

  await step("docs: the static page opens from disk without a server", async () => {
    await page.goto(`file://${join(project, "target", "static_index.html")}#!/source/source.uitest.bronze.customers`);
    await page.locator("[data-testid=docs-title]", { hasText: "bronze.customers" }).waitFor();
    check(await page.locator('[data-testid=docs-lineage] g.node[data-id="model.uitest.customers"]').count() === 1,
      "the source's lineage lacks the model reading it");
    await shot("13-docs-static");
  });

  await step("docs serve stops on SIGTERM", async () => {
    check(docsServer, "no docs server");
    const exited = new Promise((r) => docsServer.once("exit", (code) => r(code)));
    docsServer.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 10_000))]);
    check(code === 0, `docs serve exited with ${code}`);
  });

  await step("no console errors on any page", async () => {
    check(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join("\n  ")}`);
  });
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.log(`FAIL setup: ${err.message}`);
  results.push({ name: "setup", ok: false });
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
const failed = results.filter((r) => !r.ok).length;
if (failed) {
  exitCode = 1;
  try {
    console.log(`--- strata serve output (last 40 lines) ---\n${readFileSync(join(outDir, "serve.log"), "utf8").split("\n").slice(-40).join("\n")}`);
  } catch {
    /* no log */
  }
}
console.log(`screenshots: ${outDir}`);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(exitCode);
