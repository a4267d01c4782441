// Strata's web UI: boots the session, draws the top navigation and routes by the URL's hash.
import { login, openSession } from "./api";
import { errorBox, h, mount } from "./dom";
import { navigate, route } from "./router";
import { connectionsPage } from "./pages/connections";
import { datasetsPage } from "./pages/datasets";
import { ganttPage } from "./pages/gantt";
import { graphPage } from "./pages/graph";
import { gridPage } from "./pages/grid";
import { lineagePage } from "./pages/lineage";
import { logsPage } from "./pages/logs";
import { pipelinesPage } from "./pages/pipelines";
import { qualityPage } from "./pages/quality";
import { triggerPage } from "./pages/trigger";

route("/", "pipelines", pipelinesPage);
route("/pipelines", "pipelines", pipelinesPage);
route("/pipelines/:name", "pipelines", gridPage);
route("/pipelines/:name/grid", "pipelines", gridPage);
route("/pipelines/:name/graph", "pipelines", graphPage);
route("/pipelines/:name/gantt", "pipelines", ganttPage);
route("/pipelines/:name/trigger", "pipelines", triggerPage);
route("/logs/:run/:task/:try", "pipelines", logsPage);
route("/connections", "connections", connectionsPage);
route("/datasets", "datasets", datasetsPage);
route("/lineage", "lineage", lineagePage);
route("/quality", "quality", qualityPage);

const navItems: [string, string, string][] = [
  ["pipelines", "#/", "Pipelines"],
  ["connections", "#/connections", "Connections & syncs"],
  ["datasets", "#/datasets", "Datasets"],
  ["lineage", "#/lineage", "Lineage"],
  ["quality", "#/quality", "Data quality"],
];

function drawNav(active: string): void {
  const nav = document.getElementById("nav")!;
  mount(nav, navItems.map(([id, href, label]) => h("a", { href, class: id === active ? "active" : "", "data-nav": id }, label)));
}

function loginForm(root: HTMLElement, start: () => void): void {
  const input = h("input", { type: "password", placeholder: "API token", "aria-label": "API token", autocomplete: "current-password" });
  const message = h("div", null);
  const form = h("form", { class: "form login" }, h("h1", null, "Sign in"),
    h("p", { class: "muted" }, "This server needs its API token (STRATA_API_TOKEN, or the one it printed at start)."),
    input, h("button", { type: "submit", class: "btn" }, "Sign in"), message);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await login(input.value);
      start();
    } catch (err) {
      mount(message, errorBox(err));
    }
  });
  mount(root, form);
}

async function boot(): Promise<void> {
  const root = document.getElementById("app")!;
  const start = () => {
    const go = () => void navigate(root, drawNav);
    window.addEventListener("hashchange", go);
    go();
  };
  try {
    if (await openSession()) start();
    else loginForm(root, start);
  } catch (err) {
    mount(root, errorBox(err));
  }
}

void boot();
