// Trigger: a form built from the pipeline's declared params (their JSON types), posting a run.
import { enc, get, post, type Json, type PipelineDetail, type RunSummary } from "../api";
import { errorBox, h, mount } from "../dom";
import type { Page, PageContext } from "../router";
import { pipelineHeader } from "./common";

type Field = { key: string; read: () => Json };

function field(key: string, def: Json): { el: HTMLElement; field: Field } {
  const id = `param-${key}`;
  const label = h("label", { for: id }, key);
  if (typeof def === "boolean") {
    const input = h("input", { id, type: "checkbox", checked: def, name: key });
    return { el: h("div", { class: "field" }, label, input), field: { key, read: () => input.checked } };
  }
  if (typeof def === "number") {
    const input = h("input", { id, type: "number", step: "any", value: String(def), name: key });
    return {
      el: h("div", { class: "field" }, label, input),
      field: {
        key,
        read: () => {
          const n = Number(input.value);
          if (input.value.trim() === "" || !Number.isFinite(n)) throw new Error(`${key}: a number is needed`);
          return n;
        },
      },
    };
  }
  if (typeof def === "string") {
    const input = h("input", { id, type: "text", value: def, name: key });
    return { el: h("div", { class: "field" }, label, input), field: { key, read: () => input.value } };
  }
  // Arrays, objects and null: JSON text.
  const area = h("textarea", { id, name: key, rows: 3 }, JSON.stringify(def, null, 2));
  return {
    el: h("div", { class: "field" }, label, area, h("div", { class: "muted small" }, def === null ? "any JSON value" : `JSON ${Array.isArray(def) ? "array" : "object"}`)),
    field: {
      key,
      read: () => {
        try {
          return JSON.parse(area.value) as Json;
        } catch {
          throw new Error(`${key}: not valid JSON`);
        }
      },
    },
  };
}

export function triggerPage(ctx: PageContext): Page {
  const name = ctx.params.name;
  return {
    interval: 0,
    async refresh() {
      const p = await get<PipelineDetail>(`/pipelines/${enc(name)}`);
      const built = Object.entries(p.params ?? {}).map(([k, v]) => field(k, v));
      const message = h("div", { class: "form-message" });
      const form = h("form", { class: "form", "data-testid": "trigger-form" },
        built.length ? built.map((b) => b.el) : h("p", { class: "muted" }, "This pipeline declares no params."),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "btn" }, "▶ Trigger run")),
        message);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
        try {
          const params: Record<string, Json> = {};
          for (const b of built) params[b.field.key] = b.field.read();
          button.disabled = true;
          const res = await post<{ run: RunSummary }>(`/pipelines/${enc(name)}/runs`, { params });
          location.hash = `#/pipelines/${enc(name)}/grid?run=${enc(res.run.run_id)}`;
        } catch (err) {
          button.disabled = false;
          mount(message, errorBox(err));
        }
      });
      mount(ctx.root, pipelineHeader(name, "trigger"),
        h("p", { class: "muted" }, p.paused ? "This pipeline is paused: unpause it on the Pipelines page for the scheduler to pick runs up." : "The scheduler starts the run at once."),
        form);
    },
  };
}
