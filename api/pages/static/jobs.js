// The jobs page: what /health shows, the key form, the submit form and the caller's jobs
// with live progress (polled every second while one is active).

import {
  ACTIVE, ApiFailure, api, apiKey, el, fmtDuration, fmtTime, jobDuration, keyForm, progressText, renderFailure, setApiKey,
} from "./common.js";

const POLL_ACTIVE_MS = 1000;
const POLL_IDLE_MS = 5000;

let health = null;
let timer = null;
const key = keyForm(() => start());

function showHealth(h) {
  const facts = document.getElementById("health");
  const backends = Object.entries(h.backends || {}).filter(([, on]) => on).map(([name]) => name).join(", ");
  const w = h.workers || {};
  const rows = [
    ["Status", h.status],
    ["Version", h.version || "–"],
    ["Backends", backends || "–"],
    ["Workers", `${w.ready ?? "?"} ready, ${w.busy ?? "?"} busy of ${w.configured ?? "?"}`],
    ["Modes", ((h.features || {}).modes || []).join(", ")],
    ["API keys", h.auth ? "required" : "not required"],
    ["Most paths per job", (h.limits || {}).max_paths],
  ];
  facts.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v ?? "–")]));
}

function keyStatus() {
  const status = document.getElementById("key-status");
  status.hidden = !(health && health.auth && apiKey());
}

function jobRow(job) {
  const link = el("a", { href: `/ui/jobs/${job.id}`, "aria-label": `job ${job.id}` }, el("code", {}, job.id.slice(0, 8)));
  const p = job.progress || {};
  const bar = el("progress", { max: p.total || 1, value: job.status === "done" ? p.total || 1 : p.done || 0,
    "aria-label": `progress of job ${job.id.slice(0, 8)}` });
  const status = el("span", { class: `status status-${job.status}` }, job.status);
  const why = job.status === "failed" && job.error ? el("div", { class: "reason" }, job.error.reason || "") : null;
  return el("tr", { "data-job": job.id, "data-status": job.status },
    el("td", {}, link), el("td", {}, job.kind), el("td", {}, job.mode || "–"), el("td", {}, status, why),
    el("td", {}, bar, " ", el("span", { class: "progress-text" }, progressText(p))),
    el("td", { class: "num" }, fmtDuration(jobDuration(job))), el("td", {}, fmtTime(job.created)));
}

let generation = 0; // a refresh started later supersedes one still waiting for its answer

async function refresh() {
  clearTimeout(timer);
  const mine = ++generation;
  const error = document.getElementById("jobs-error");
  let active = false;
  try {
    const { jobs } = await api("/jobs?limit=100");
    if (mine !== generation) return;
    document.querySelector("#jobs-table tbody").replaceChildren(...jobs.map(jobRow));
    document.getElementById("jobs-empty").hidden = jobs.length > 0;
    error.textContent = "";
    active = jobs.some((j) => ACTIVE.includes(j.status));
  } catch (failure) {
    if (failure instanceof ApiFailure && failure.status === 401) {
      key.ask(failure);
      keyStatus();
      return; // polling resumes once a key is given
    }
    renderFailure(error, failure);
  }
  timer = setTimeout(refresh, active ? POLL_ACTIVE_MS : POLL_IDLE_MS);
}

function chosenKind() {
  return document.querySelector('input[name="kind"]:checked').value;
}

function showKind() {
  const system = chosenKind() === "system";
  document.getElementById("spec-fields").hidden = system;
  document.getElementById("system-fields").hidden = !system;
}

// The request of the form, or throws an ApiFailure-like error for JSON that does not parse.
function request() {
  if (chosenKind() === "system") {
    return { path: "/systems/solve?wait=0", body: {
      system: document.getElementById("system").value, start: document.getElementById("start").value } };
  }
  const text = document.getElementById("spec").value;
  try {
    return { path: "/solve?wait=0", body: JSON.parse(text) };
  } catch (exc) {
    throw new ApiFailure(0, { error: "invalid_json", reason: "the layer spec is not valid JSON",
      detail: [{ field: "spec", reason: exc.message }] });
  }
}

async function submit(event) {
  event.preventDefault();
  const error = document.getElementById("form-error");
  const status = document.getElementById("form-status");
  const button = document.getElementById("submit-button");
  error.replaceChildren();
  status.textContent = "";
  button.disabled = true;
  try {
    const { path, body } = request();
    const job = await api(path, { method: "POST", body });
    status.replaceChildren(job.cached ? "Answered from the cache: " : "Submitted: ",
      el("a", { href: `/ui/jobs/${job.id}` }, `job ${job.id.slice(0, 8)}`), ` (${job.status})`);
    refresh();
  } catch (failure) {
    renderFailure(error, failure);
    if (failure instanceof ApiFailure && failure.status === 401) key.ask(failure);
  } finally {
    button.disabled = false;
  }
}

async function start() {
  keyStatus();
  if (health && health.auth && !apiKey()) {
    key.ask();
    return;
  }
  refresh();
}

async function main() {
  document.getElementById("solve-form").addEventListener("submit", submit);
  for (const radio of document.querySelectorAll('input[name="kind"]')) radio.addEventListener("change", showKind);
  document.getElementById("forget-key").addEventListener("click", () => {
    setApiKey("");
    document.querySelector("#jobs-table tbody").replaceChildren();
    start();
  });
  showKind();
  try {
    health = await api("/health");
    showHealth(health);
  } catch (failure) {
    renderFailure(document.getElementById("jobs-error"), failure);
  }
  start();
}

main();
