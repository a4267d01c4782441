// Logs: one attempt's log with a live tail (Server-Sent Events), search and download.
import { enc, get, type Attempt, type LogChunk, type RunSummary, type TaskInstance } from "../api";
import { errorBox, fmtBytes, h, mount, stateLabel } from "../dom";
import type { Page, PageContext } from "../router";

export function logsPage(ctx: PageContext): Page {
  const { run, task } = ctx.params;
  const tryNumber = Number(ctx.params.try);
  // Run ids are unique per pipeline: the pipeline (when the link names it) picks the run.
  const pipelineParam = ctx.query.get("pipeline");
  const scope = pipelineParam ? `?pipeline=${enc(pipelineParam)}` : "";
  const base = `/runs/${enc(run)}/tasks/${enc(task)}`;
  let text = "";
  let source: EventSource | null = null;
  let finished = false;
  let query = "";
  const pre = h("pre", { class: "log", "data-testid": "log" });
  const status = h("span", { class: "muted", "data-testid": "log-status" });
  const count = h("span", { class: "muted small" });
  let follow = true;

  const render = () => {
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    if (!query) {
      pre.textContent = text;
      count.textContent = "";
    } else {
      // Only the matching lines, with the match marked.
      const needle = query.toLowerCase();
      const frag = document.createDocumentFragment();
      let n = 0;
      text.split("\n").forEach((line, i) => {
        const at = line.toLowerCase().indexOf(needle);
        if (at < 0) return;
        n++;
        frag.append(h("span", { class: "ln" }, String(i + 1)), line.slice(0, at),
          h("mark", null, line.slice(at, at + query.length)), line.slice(at + query.length), "\n");
      });
      pre.replaceChildren(frag);
      count.textContent = `${n} matching line${n === 1 ? "" : "s"}`;
    }
    if (follow && atBottom) pre.scrollTop = pre.scrollHeight;
  };

  const setStatus = (label: string) => {
    status.textContent = `${label} · ${fmtBytes(new Blob([text]).size)}`;
  };

  const tail = (offset: number) => {
    source = new EventSource(`/api/v1${base}/logs/${tryNumber}/stream${scope ? scope + "&" : "?"}offset=${offset}`);
    setStatus("live");
    source.addEventListener("log", (ev) => {
      const data = JSON.parse((ev as MessageEvent<string>).data) as { text: string };
      text += data.text;
      setStatus("live");
      render();
    });
    source.addEventListener("end", (ev) => {
      const data = JSON.parse((ev as MessageEvent<string>).data) as { state?: string };
      finished = true;
      source?.close();
      source = null;
      setStatus(`finished${data.state ? `: ${data.state}` : ""}`);
    });
    source.addEventListener("error", () => {
      // The browser reconnects by itself with Last-Event-ID; say so meanwhile.
      if (!finished) setStatus("reconnecting…");
    });
  };

  const search = h("input", { type: "search", placeholder: "Search the log", "aria-label": "Search the log", "data-testid": "log-search" });
  search.addEventListener("input", () => {
    query = search.value;
    render();
  });
  const followBox = h("input", { type: "checkbox", checked: true });
  followBox.addEventListener("change", () => (follow = followBox.checked));

  const page: Page = {
    interval: 0, // the SSE stream is the live part
    async refresh() {
      const [info, chunk, runInfo] = await Promise.all([
        get<{ task_instance: TaskInstance; attempts: Attempt[] }>(`${base}${scope}`),
        get<LogChunk>(`${base}/logs/${tryNumber}${scope}`),
        get<{ run: RunSummary }>(`/runs/${enc(run)}${scope}`),
      ]);
      const pipeline = runInfo.run.pipeline;
      text = chunk.content;
      finished = chunk.finished;
      const attempts = info.attempts.map((a) =>
        h("a", { href: `#/logs/${enc(run)}/${enc(task)}/${a.try_number}${scope}`, class: a.try_number === tryNumber ? "tab active" : "tab" },
          `try ${a.try_number} `, stateLabel(a.state)));
      mount(ctx.root,
        h("div", { class: "page-head" },
          h("h1", null, h("a", { href: "#/", class: "crumb" }, "Pipelines"), " / ",
            h("a", { href: `#/pipelines/${enc(pipeline)}/grid?run=${enc(run)}&task=${enc(task)}`, class: "crumb" }, pipeline), " / ",
            h("span", { class: "muted small" }, run), " / ", task, " ", stateLabel(info.task_instance.state)),
          h("nav", { class: "tabs" }, attempts)),
        h("div", { class: "toolbar" }, search, count,
          h("label", { class: "small" }, followBox, " follow"),
          h("a", { class: "btn small ghost", href: `/api/v1${base}/logs/${tryNumber}?format=text`, download: `${task}-try${tryNumber}.log`, "data-testid": "log-download" }, "⇩ Download"),
          status),
        chunk.truncated ? errorBox(new Error("The log is large: showing its end. Download it for everything.")) : null,
        pre);
      render();
      pre.scrollTop = pre.scrollHeight;
      if (finished) setStatus("finished");
      else tail(chunk.size);
    },
    dispose() {
      source?.close();
      source = null;
    },
  };
  return page;
}
