// A layered left-to-right DAG layout (longest-path ranks, barycentre ordering) and its SVG drawing.
import { s } from "./dom";

export interface Edge {
  from: string;
  to: string;
}

export interface Placement {
  x: Map<string, number>;
  y: Map<string, number>;
  width: number;
  height: number;
}

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  gapX: number;
  gapY: number;
  pad: number;
  // A lowest rank per node (e.g. its medallion layer), so columns line up by meaning.
  minRank?: (id: string) => number;
}

// Ranks: the longest path from any source (cycles are broken by ignoring edges into visited nodes).
function ranks(ids: string[], edges: Edge[], minRank?: (id: string) => number): Map<string, number> {
  const indeg = new Map<string, number>(ids.map((id) => [id, 0]));
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edges) {
    if (!indeg.has(e.from) || !indeg.has(e.to) || e.from === e.to) continue;
    indeg.set(e.to, (indeg.get(e.to) ?? 0) + 1);
    out.get(e.from)!.push(e.to);
  }
  const rank = new Map<string, number>(ids.map((id) => [id, minRank ? minRank(id) : 0]));
  const queue = ids.filter((id) => indeg.get(id) === 0);
  const done = new Set<string>();
  while (queue.length) {
    const id = queue.shift()!;
    done.add(id);
    for (const next of out.get(id)!) {
      rank.set(next, Math.max(rank.get(next)!, rank.get(id)! + 1));
      const d = indeg.get(next)! - 1;
      indeg.set(next, d);
      if (d === 0) queue.push(next);
    }
  }
  const maxRank = Math.max(0, ...rank.values());
  for (const id of ids) if (!done.has(id)) rank.set(id, maxRank + 1);
  return rank;
}

// Orders each layer by the mean position of its neighbours, sweeping down and up a few times.
function order(layers: string[][], edges: Edge[]): void {
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const e of edges) {
    (preds.get(e.to) ?? preds.set(e.to, []).get(e.to)!).push(e.from);
    (succs.get(e.from) ?? succs.set(e.from, []).get(e.from)!).push(e.to);
  }
  const pos = new Map<string, number>();
  const index = () => layers.forEach((layer) => layer.forEach((id, i) => pos.set(id, i)));
  index();
  const sweep = (layer: string[], neighbours: Map<string, string[]>) => {
    const key = new Map<string, number>();
    layer.forEach((id, i) => {
      const ns = (neighbours.get(id) ?? []).filter((n) => pos.has(n));
      key.set(id, ns.length ? ns.reduce((a, n) => a + pos.get(n)!, 0) / ns.length : i);
    });
    layer.sort((a, b) => key.get(a)! - key.get(b)!);
    layer.forEach((id, i) => pos.set(id, i));
  };
  for (let round = 0; round < 4; round++) {
    for (let i = 1; i < layers.length; i++) sweep(layers[i], preds);
    for (let i = layers.length - 2; i >= 0; i--) sweep(layers[i], succs);
  }
}

// Places `ids` (in their given order as a tie-break) in columns by rank, left to right.
export function layeredLayout(ids: string[], edges: Edge[], opt: LayoutOptions): Placement {
  const rank = ranks(ids, edges, opt.minRank);
  const layerCount = Math.max(0, ...rank.values()) + 1;
  const layers: string[][] = Array.from({ length: layerCount }, () => []);
  for (const id of ids) layers[rank.get(id)!].push(id);
  const used = layers.filter((l) => l.length > 0);
  order(used, edges);
  const tallest = Math.max(1, ...used.map((l) => l.length));
  const rowH = opt.nodeHeight + opt.gapY;
  const x = new Map<string, number>();
  const y = new Map<string, number>();
  used.forEach((layer, col) => {
    const offset = ((tallest - layer.length) * rowH) / 2;
    layer.forEach((id, row) => {
      x.set(id, opt.pad + col * (opt.nodeWidth + opt.gapX));
      y.set(id, opt.pad + offset + row * rowH);
    });
  });
  return {
    x,
    y,
    width: opt.pad * 2 + used.length * (opt.nodeWidth + opt.gapX) - opt.gapX,
    height: opt.pad * 2 + tallest * rowH - opt.gapY,
  };
}

export interface DagNode {
  id: string;
  label: string;
  sublabel?: string;
  cls: string; // classes of the node's box
  stripe?: string; // classes of the coloured stripe on its left (e.g. a state)
  title?: string;
  selected?: boolean;
  onClick?: () => void;
}

const W = 190;
const H = 46;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// Draws a DAG as SVG: boxes with a label and sublabel, curved edges with arrow heads.
export function drawDag(nodes: DagNode[], edges: Edge[], minRank?: (id: string) => number): SVGSVGElement {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const shown = edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  const p = layeredLayout(ids, shown, { nodeWidth: W, nodeHeight: H, gapX: 70, gapY: 18, pad: 16, minRank });
  const svg = s("svg", {
    class: "dag",
    width: Math.max(p.width, 200),
    height: Math.max(p.height, 80),
    viewBox: `0 0 ${Math.max(p.width, 200)} ${Math.max(p.height, 80)}`,
    role: "img",
  });
  svg.append(
    s("defs", null,
      s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }))),
  );
  const edgeLayer = s("g", { class: "edges" });
  for (const e of shown) {
    const x1 = p.x.get(e.from)! + W;
    const y1 = p.y.get(e.from)! + H / 2;
    const x2 = p.x.get(e.to)!;
    const y2 = p.y.get(e.to)! + H / 2;
    const mid = (x1 + x2) / 2;
    edgeLayer.append(s("path", {
      d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2 - 2} ${y2}`,
      class: "edge",
      "marker-end": "url(#arrow)",
      "data-from": e.from,
      "data-to": e.to,
    }));
  }
  svg.append(edgeLayer);
  const nodeLayer = s("g", { class: "nodes" });
  for (const n of nodes) {
    const g = s("g", {
      class: `node ${n.selected ? "selected" : ""} ${n.onClick ? "clickable" : ""}`,
      transform: `translate(${p.x.get(n.id)},${p.y.get(n.id)})`,
      "data-id": n.id,
      tabindex: n.onClick ? 0 : null,
    },
      s("title", null, n.title ?? n.id),
      s("rect", { width: W, height: H, rx: 6, class: `box ${n.cls}` }),
      n.stripe ? s("rect", { width: 7, height: H, rx: 3, class: n.stripe }) : null,
      s("text", { x: 14, y: n.sublabel ? 19 : 28, class: "label" }, clip(n.label, 24)),
      n.sublabel ? s("text", { x: 14, y: 36, class: "sublabel" }, clip(n.sublabel, 30)) : null,
    );
    if (n.onClick) {
      const click = n.onClick;
      g.addEventListener("click", click);
      g.addEventListener("keydown", (ev) => {
        if ((ev as KeyboardEvent).key === "Enter") click();
      });
    }
    nodeLayer.append(g);
  }
  svg.append(nodeLayer);
  return svg;
}
