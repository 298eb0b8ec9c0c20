// Small SVG plots drawn here (no plotting library): lines and scatter points with axes,
// ticks and a legend. Each plot is a <figure> with an accessible title and caption.

import { fmtNumber } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 420, H = 290, M = { left: 56, right: 12, top: 26, bottom: 40 };
let serial = 0;

function svg(tag, attributes = {}, text = undefined) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Round tick values covering [lo, hi] (about `count` of them).
function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

function extent(values, pad = 0.05) {
  const finite = values.filter((v) => v !== null && isFinite(v));
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (!finite.length) [lo, hi] = [0, 1];
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

// The frame: axes with ticks and labels; returns the data-to-pixel maps.
function frame(root, xr, yr, xLabel, yLabel, xTicks) {
  const sx = (x) => M.left + ((x - xr[0]) / (xr[1] - xr[0])) * (W - M.left - M.right);
  const sy = (y) => H - M.bottom - ((y - yr[0]) / (yr[1] - yr[0])) * (H - M.top - M.bottom);
  const axes = svg("g", { class: "axes" });
  for (const t of xTicks || ticks(xr[0], xr[1])) {
    axes.append(svg("line", { x1: sx(t), x2: sx(t), y1: M.top, y2: H - M.bottom, class: "grid" }));
    axes.append(svg("text", { x: sx(t), y: H - M.bottom + 14, "text-anchor": "middle" }, fmtNumber(t, 3)));
  }
  for (const t of ticks(yr[0], yr[1])) {
    axes.append(svg("line", { x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t), class: "grid" }));
    axes.append(svg("text", { x: M.left - 4, y: sy(t) + 4, "text-anchor": "end" }, fmtNumber(t, 3)));
  }
  axes.append(svg("rect", { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom, class: "box" }));
  axes.append(svg("text", { x: (M.left + W - M.right) / 2, y: H - 6, "text-anchor": "middle", class: "label" }, xLabel));
  axes.append(svg("text", { x: 12, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle", class: "label",
    transform: `rotate(-90 12 ${(M.top + H - M.bottom) / 2})` }, yLabel));
  root.append(axes);
  return { sx, sy };
}

function figure(title, caption, className) {
  const id = `plot-${++serial}`;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`, class: className });
  root.append(svg("title", { id: `${id}-title` }, title), svg("desc", { id: `${id}-desc` }, caption));
  const fig = document.createElement("figure");
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  fig.append(root, cap);
  return { fig, root };
}

// One row above the frame, so that it never hides a point.
function legend(root, entries) {
  const g = svg("g", { class: "legend" });
  const width = (W - M.left - M.right) / Math.max(entries.length, 2);
  entries.forEach(({ label, cls }, i) => {
    const x = M.left + i * width, y = M.top - 10;
    g.append(svg("line", { x1: x, x2: x + 22, y1: y - 4, y2: y - 4, class: cls }));
    g.append(svg("text", { x: x + 28, y }, label));
  });
  root.append(g);
}

// A line plot: `series` = [{x: [...], y: [...], label, cls}] (cls styles the line).
export function linePlot({ title, caption, series, xLabel, yLabel, className = "line-plot" }) {
  const { fig, root } = figure(title, caption, className);
  const xr = extent(series.flatMap((s) => s.x), 0);
  const yr = extent(series.flatMap((s) => s.y));
  const { sx, sy } = frame(root, xr, yr, xLabel, yLabel);
  for (const s of series) {
    const d = s.x.map((x, i) => `${i ? "L" : "M"}${sx(x).toFixed(2)} ${sy(s.y[i]).toFixed(2)}`).join("");
    root.append(svg("path", { d, class: `series ${s.cls}`, "data-series": s.label }));
  }
  legend(root, series);
  return fig;
}

// A scatter plot of integer x (e.g. a Morse index): `points` = [{x, y, label, cls}].
export function scatterPlot({ title, caption, points, xLabel, yLabel, className = "scatter-plot" }) {
  const { fig, root } = figure(title, caption, className);
  const xs = points.map((p) => p.x);
  const xr = [Math.min(...xs, 0) - 0.5, Math.max(...xs, 0) + 0.5];
  const xTicks = [];
  for (let t = Math.ceil(xr[0]); t <= xr[1]; t += 1) xTicks.push(t);
  const { sx, sy } = frame(root, xr, extent(points.map((p) => p.y)), xLabel, yLabel, xTicks);
  for (const p of points) {
    const dot = svg("circle", { cx: sx(p.x), cy: sy(p.y), r: 5, class: `point ${p.cls}` });
    dot.append(svg("title", {}, p.label));
    root.append(dot);
  }
  const kinds = [...new Set(points.map((p) => p.cls))];
  legend(root, kinds.map((cls) => ({ label: cls.replace("kind-", ""), cls: `swatch ${cls}` })));
  return fig;
}
