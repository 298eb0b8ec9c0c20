// One job: its spec, progress (polled while active), and once done the surrogate plots,
// the critical points (sortable table, loss against Morse index), the layers' fractions
// and a download button per candidate.

import {
  ACTIVE, ApiFailure, api, apiKey, el, fmtDuration, fmtNumber, fmtPercent, fmtTime, jobDuration, keyForm, progressText, renderFailure,
} from "./common.js";
import { linePlot, scatterPlot } from "./plot.js";

const POLL_MS = 1000;
const jobId = decodeURIComponent(location.pathname.split("/").pop());
const key = keyForm(() => load());
let rendered = false;
let request = null; // the job's request as validated (fetched once)

function facts(target, rows) {
  target.replaceChildren(...rows.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function specRows(job) {
  const r = request || {};
  const result = job.result || {};
  if (job.kind === "system") {
    return [["Start system", r.start], ["Seed", r.seed], ["Tracker", r.tracker], ["Most paths", r.max_paths]];
  }
  const layers = r.layers || [];
  const widths = layers.length ? [layers[0].in_features, ...layers.map((l) => l.out_features)].join("-") : "";
  const acts = layers.map((l) => l.activation).join(", ");
  const sur = r.surrogate || {};
  const ran = result.mode && result.mode !== r.mode ? ` (ran ${result.mode})` : "";
  return [
    ["Network", `${widths} (${acts})`],
    ["Mode", `${r.mode || "?"}${ran}`],
    ["Why", result.reason],
    ["Data", r.data ? `${plural(r.data.x.length, "row")} of ${plural((r.data.x[0] || []).length, "feature")}` : undefined],
    ["Surrogate", sur.degree ? `degree ${sur.degree} on [${(sur.interval || []).join(", ")}]` : undefined],
    ["Weight decay", r.weight_decay],
    ["Seed", r.seed],
    ["Candidates asked", r.candidates],
  ];
}

function showSummary(job) {
  document.getElementById("job-id").textContent = job.id;
  document.title = `lps-init: job ${job.id.slice(0, 8)} (${job.status})`;
  const p = job.progress || {};
  const bar = document.getElementById("job-progress");
  bar.max = p.total || 1;
  bar.value = job.status === "done" ? p.total || 1 : p.done || 0;
  document.getElementById("job-progress-text").textContent = `${job.status}: ${progressText(p)}`;
  facts(document.getElementById("facts"), [
    ["Status", el("span", { class: `status status-${job.status}`, id: "job-status" }, job.status)],
    ["Error", job.error ? el("span", { class: "reason", id: "job-error-reason" }, job.error.reason || JSON.stringify(job.error)) : null],
    ["Kind", job.kind],
    ["Waiting for", job.waiting_for ? el("a", { href: `/ui/jobs/${job.waiting_for}` }, `job ${job.waiting_for.slice(0, 8)}`) : null],
    ...specRows(job),
    ["Submitted", fmtTime(job.created)],
    ["Duration", fmtDuration(jobDuration(job))],
    ["Attempts", job.attempts],
    ["Note", job.note],
    ["Answered from the cache", job.cached ? "yes" : null],
  ]);
  document.getElementById("raw-json").textContent = JSON.stringify(job, null, 2);
}

async function showSurrogates() {
  const { layers } = await api(`/jobs/${jobId}/surrogates`);
  const plots = layers.map((s) => linePlot({
    title: `Layer ${s.layer}: ${s.activation} and its surrogate`,
    caption: `Layer ${s.layer}: ${s.activation}, degree ${s.degree} on [${s.interval.join(", ")}]; ` +
      `max error ${fmtNumber(s.max_error)}, rms error ${fmtNumber(s.rms_error)}`,
    series: [
      { x: s.x, y: s.activation_values, label: s.activation, cls: "activation" },
      { x: s.x, y: s.surrogate_values, label: `surrogate (degree ${s.degree})`, cls: "surrogate" },
    ],
    xLabel: "pre-activation", yLabel: "value", className: "line-plot surrogate-plot",
  }));
  document.getElementById("surrogate-plots").replaceChildren(...plots);
  document.getElementById("surrogates").hidden = false;
}

const CP_COLUMNS = [
  { key: "rank", label: "#", num: true },
  { key: "loss", label: "Loss", num: true },
  { key: "grad_norm", label: "Gradient norm", num: true },
  { key: "index", label: "Morse index", num: true },
  { key: "kind", label: "Kind" },
  { key: "orbit_size", label: "Orbit size", num: true },
  { key: "certified", label: "Certified", optional: true },
];

function cellText(column, value) {
  if (column.key === "certified") return value === undefined || value === null ? "–" : value ? "yes" : "no";
  return column.num && column.key !== "rank" && column.key !== "index" && column.key !== "orbit_size" ? fmtNumber(value) : value ?? "–";
}

// The critical-points table: a button in each heading sorts by that column.
function criticalTable(points) {
  const columns = CP_COLUMNS.filter((c) => !c.optional || points.some((p) => c.key in p));
  const rows = points.map((p, i) => ({ ...p, rank: i }));
  const head = document.querySelector("#cp-table thead tr");
  const body = document.querySelector("#cp-table tbody");
  const sort = { key: "rank", dir: 1 };
  const draw = () => {
    const cmp = (a, b) => {
      const x = a[sort.key], y = b[sort.key];
      if (x === y) return 0;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (x < y ? -1 : 1) * sort.dir;
    };
    body.replaceChildren(...[...rows].sort(cmp).map((p) => el("tr", {}, ...columns.map((c) =>
      el("td", { class: c.num ? "num" : "", "data-col": c.key, "data-value": p[c.key] ?? "" }, cellText(c, p[c.key]))))));
    for (const th of head.children) {
      th.setAttribute("aria-sort", th.dataset.col === sort.key ? (sort.dir > 0 ? "ascending" : "descending") : "none");
    }
  };
  head.replaceChildren(...columns.map((c) => {
    const button = el("button", { type: "button" }, c.label);
    button.addEventListener("click", () => {
      sort.dir = sort.key === c.key ? -sort.dir : 1;
      sort.key = c.key;
      draw();
    });
    return el("th", { scope: "col", "data-col": c.key }, button);
  }));
  draw();
}

function showCriticalPoints(exact) {
  const points = exact.critical_points || [];
  const c = exact.counts || {};
  const solve = exact.solve || {};
  document.getElementById("cp-counts").textContent =
    `${c.finite ?? "?"} finite critical points, ${c.real ?? "?"} real in ${c.real_orbits ?? "?"} orbits ` +
    `(${c.minimum_orbits ?? 0} minima, ${c.saddle_orbits ?? 0} saddles, ${c.maximum_orbits ?? 0} maxima, ` +
    `${c.degenerate_orbits ?? 0} degenerate); ${solve.paths ?? "?"} paths by ${solve.method || solve.start_system || "?"}` +
    (solve.complete === false ? " (incomplete)" : "");
  criticalTable(points);
  document.getElementById("loss-index-plot").replaceChildren(scatterPlot({
    title: "Loss against Morse index",
    caption: `Loss of each real critical point against its Morse index (negative Hessian eigenvalues), ${points.length} orbits`,
    points: points.map((p, i) => ({ x: p.index, y: p.loss, cls: `kind-${p.kind}`,
      label: `#${i}: loss ${fmtNumber(p.loss)}, index ${p.index}, ${p.kind}, orbit ${p.orbit_size}` })),
    xLabel: "Morse index", yLabel: "loss", className: "scatter-plot loss-index-plot",
  }));
  document.getElementById("critical-points").hidden = false;
}

function showLayers(layers) {
  document.querySelector("#layers-table tbody").replaceChildren(...layers.map((l, k) => el("tr", {},
    el("td", { class: "num" }, k), el("td", { class: "num" }, l.neurons),
    el("td", { class: "num", "data-col": "active" }, fmtPercent(l.active_fraction)),
    el("td", { class: "num", "data-col": "split" }, fmtPercent(l.split_fraction)),
    el("td", { class: "num", "data-col": "dead" }, fmtPercent(l.dead_fraction)), el("td", {}, l.method || "–"))));
  document.getElementById("layers").hidden = false;
}

// Fetches the weights with the key and hands them to the browser as a file.
async function download(k, button) {
  const status = button.nextElementSibling;
  status.textContent = "";
  try {
    const response = await api(`/jobs/${jobId}/weights?candidate=${k}`, { raw: true });
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(await response.blob());
    const a = el("a", { href: url, download: match ? match[1] : `${jobId}-candidate${k}.safetensors`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (failure) {
    renderFailure(status, failure);
  }
}

function showCandidates(candidates) {
  document.getElementById("candidate-list").replaceChildren(...candidates.map((c, k) => {
    const what = c.loss !== undefined ? `loss ${fmtNumber(c.loss)}, ${c.kind}, Morse index ${c.index}` : "the mode's weights";
    const button = el("button", { type: "button", class: "download", "data-candidate": k }, `Download candidate ${k}`);
    button.addEventListener("click", () => download(k, button));
    return el("li", {}, `Candidate ${k}: ${what} `, button, el("span", { class: "error", role: "alert" }));
  }));
  document.getElementById("candidates").hidden = false;
}

function showSystem(result) {
  const c = result.counts || {};
  facts(document.getElementById("system-facts"), [
    ["Paths", `${result.paths} (${result.start_system} start, ${result.backend})`],
    ["Solutions", `${(result.solutions || []).length} distinct finite, ${c.real ?? "?"} real`],
    ["Paths at infinity", c.at_infinity], ["Failed paths", c.failed], ["Seconds", fmtNumber(result.seconds)],
  ]);
  document.querySelector("#solutions-table tbody").replaceChildren(...(result.solutions || []).map((s, i) => el("tr", {},
    el("td", { class: "num" }, i),
    el("td", {}, s.re.map((re, j) => `${(result.variables || [])[j] || j} = ${fmtNumber(re)}${
      Math.abs(s.im[j]) > 1e-12 ? ` ${s.im[j] < 0 ? "−" : "+"} ${fmtNumber(Math.abs(s.im[j]))}i` : ""}`).join(", ")),
    el("td", {}, s.real ? "yes" : "no"), el("td", { class: "num" }, fmtNumber(s.residual)))));
  document.getElementById("system-result").hidden = false;
}

async function showResult(job) {
  const result = job.result || {};
  if (job.kind === "system") {
    showSystem(result);
    return;
  }
  if (job.kind !== "network") return; // another kind of job: its JSON below says it all
  if (result.exact) showCriticalPoints(result.exact);
  if (result.layers) showLayers(result.layers);
  if (result.candidates) showCandidates(result.candidates);
  await showSurrogates();
}

async function load() {
  const error = document.getElementById("job-error");
  try {
    const job = await api(`/jobs/${jobId}`);
    request = request || (await api(`/jobs/${jobId}/request`));
    showSummary(job);
    error.textContent = "";
    if (ACTIVE.includes(job.status)) {
      setTimeout(load, POLL_MS);
    } else if (job.status === "done" && !rendered) {
      rendered = true;
      await showResult(job);
    }
  } catch (failure) {
    if (failure instanceof ApiFailure && failure.status === 401) {
      key.ask(failure);
      return;
    }
    renderFailure(error, failure);
  }
}

async function main() {
  document.getElementById("job-id").textContent = jobId;
  try {
    const health = await api("/health");
    if (health.auth && !apiKey()) {
      key.ask();
      return;
    }
  } catch (failure) {
    renderFailure(document.getElementById("job-error"), failure);
    return;
  }
  key.hide();
  load();
}

main();
