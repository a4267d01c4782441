// Hash routing and the live-update loop: one page at a time; it is refreshed every `interval` ms
// (never faster than every 2 s) while the tab is visible, and disposed on navigation.
import { errorBox, mount } from "./dom";

export interface PageContext {
  root: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface Page {
  // Fetches what is on screen and redraws it. Called once at start, then on each tick.
  refresh(): Promise<void>;
  // Milliseconds between refreshes; 0 for none. At least 2000 otherwise.
  interval: number;
  dispose?(): void;
}

export type PageFactory = (ctx: PageContext) => Page;

interface Route {
  pattern: RegExp;
  names: string[];
  factory: PageFactory;
  nav: string;
}

const routes: Route[] = [];

// Registers a route like "/pipelines/:name/grid"; `nav` names the top-level tab to highlight.
export function route(path: string, nav: string, factory: PageFactory): void {
  const names: string[] = [];
  const pattern = new RegExp(
    "^" + path.replace(/:([a-z]+)/g, (_m, name: string) => {
      names.push(name);
      return "([^/]+)";
    }) + "/?$",
  );
  routes.push({ pattern, names, factory, nav });
}

let current: Page | null = null;
let timer: number | undefined;
let generation = 0;

function schedule(page: Page, gen: number): void {
  if (page.interval <= 0) return;
  timer = window.setTimeout(async () => {
    if (gen !== generation) return;
    if (document.visibilityState === "visible") {
      try {
        await page.refresh();
        setLive(true);
      } catch {
        setLive(false);
      }
    }
    if (gen === generation) schedule(page, gen);
  }, Math.max(2000, page.interval));
}

function setLive(ok: boolean): void {
  const live = document.getElementById("live");
  if (live) {
    live.className = ok ? "live on" : "live off";
    live.title = ok ? "Live: updating" : "Live: the last update failed";
  }
}

export function currentPath(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, "") || "/";
  const q = raw.indexOf("?");
  return q < 0 ? { path: raw, query: new URLSearchParams() } : { path: raw.slice(0, q), query: new URLSearchParams(raw.slice(q + 1)) };
}

// Shows the page for the current hash.
export async function navigate(root: HTMLElement, onNav: (nav: string) => void): Promise<void> {
  generation++;
  const gen = generation;
  window.clearTimeout(timer);
  current?.dispose?.();
  current = null;
  const { path, query } = currentPath();
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
    onNav(r.nav);
    // Each page draws into its own container: a refresh of a page left behind that completes late
    // then draws into a detached element and cannot overwrite the page now on screen.
    const view = document.createElement("div");
    view.className = "view";
    root.replaceChildren(view);
    const page = r.factory({ root: view, params, query });
    current = page;
    try {
      await page.refresh();
      setLive(true);
    } catch (err) {
      if (gen === generation) mount(view, errorBox(err));
    }
    if (gen === generation) schedule(page, gen);
    return;
  }
  onNav("");
  mount(root, errorBox(new Error(`no page at ${path}`)));
}
