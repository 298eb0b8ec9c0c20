// What both pages share: the API key (this tab only), calls to the JSON API with it,
// error answers as text, and small formatting helpers.

const KEY = "lps-api-key";

export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

// An error answer of the API: status, code, reason and the per-field details.
export class ApiFailure extends Error {
  constructor(status, body) {
    super(body.reason || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// Calls the API with the tab's key; resolves to the JSON (or the Response for `raw`),
// rejects with ApiFailure for an error answer.
export async function api(path, { method = "GET", body = undefined, raw = false } = {}) {
  const headers = { Accept: "application/json" };
  if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    let detail;
    try {
      detail = await response.json();
    } catch {
      detail = { error: "http_error", reason: `${response.status} ${response.statusText}` };
    }
    throw new ApiFailure(response.status, detail);
  }
  return raw ? response : response.json();
}

// Makes an element: el("td", {class: "num"}, "text", childNode, ...).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// An error answer as nodes: the reason, then each bad field with its reason, or the limit.
export function renderFailure(target, failure) {
  target.replaceChildren();
  const body = failure instanceof ApiFailure ? failure.body : { reason: String(failure.message || failure) };
  const status = failure instanceof ApiFailure ? `${failure.status} ` : "";
  target.append(el("p", {}, el("strong", {}, `${status}${body.error || "error"}`), ": ", body.reason || ""));
  if (Array.isArray(body.detail) && body.detail.length) {
    const list = el("ul", { class: "fields" });
    for (const d of body.detail) {
      const where = d.line ? ` (line ${d.line}${d.column ? `, column ${d.column}` : ""})` : "";
      list.append(el("li", {}, el("code", { class: "field" }, d.field || "body"), `${where}: `, el("span", { class: "reason" }, d.reason)));
    }
    target.append(list);
  }
  if (body.limit) {
    target.append(el("p", {}, "limit ", el("code", { class: "field" }, body.limit),
      body.value !== undefined ? `: ${body.value}` : "", body.max !== undefined ? ` (max ${body.max})` : ""));
  }
  if (body.suggestion) target.append(el("p", {}, body.suggestion));
}

// Wires the key form: shown when the service needs a key and the tab has none (or the
// key was refused); `onKey` runs once a key is given.
export function keyForm(onKey) {
  const section = document.getElementById("key-section");
  const form = document.getElementById("key-form");
  const input = document.getElementById("api-key");
  const error = document.getElementById("key-error");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.textContent = "enter a key";
      return;
    }
    setApiKey(key);
    input.value = "";
    error.textContent = "";
    section.hidden = true;
    onKey();
  });
  return {
    // asks for a key; `failure`: the 401 that refused the last one
    ask(failure) {
      section.hidden = false;
      if (failure) {
        setApiKey("");
        renderFailure(error, failure);
      }
      input.focus();
    },
    hide() {
      section.hidden = true;
    },
  };
}

export function fmtNumber(value, digits = 4) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (value === 0) return "0";
  const a = Math.abs(value);
  return a < 1e-3 || a >= 1e5 ? value.toExponential(digits - 1) : value.toPrecision(digits).replace(/\.?0+$/, "");
}

export function fmtPercent(value) {
  return value === null || value === undefined ? "–" : `${(100 * value).toFixed(0)} %`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function fmtTime(epochSeconds) {
  return epochSeconds ? new Date(epochSeconds * 1000).toLocaleString() : "–";
}

// The job's run time: finished - started, or so far while it runs.
export function jobDuration(job) {
  if (!job.started) return null;
  return (job.finished || Date.now() / 1000) - job.started;
}

export function progressText(progress) {
  if (!progress) return "";
  const unit = progress.unit ? ` ${progress.unit}` : "";
  return progress.total ? `${progress.done} / ${progress.total}${unit}` : `${progress.done}${unit}`;
}

export const ACTIVE = ["queued", "running"];
