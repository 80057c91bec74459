/* Distillery dashboard: one page, vanilla JS, built on the public /v1 API (the same calls the client
 * and the CLI make). The API key, when the server needs one, lives in sessionStorage only and goes out
 * as an Authorization header: never in a URL or a cookie. */
"use strict";

const KEY_STORE = "distillery.apiKey";
const TERMINAL = ["succeeded", "failed", "cancelled"];
const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"];
const COLORS = ["#2f6f8f", "#d1603d", "#3c9a5f", "#8e5bb5", "#c49a1a", "#5a6b7d", "#cf4f8a", "#2aa1a8", "#7a8c2e", "#a0522d"];
const EXT = { torchscript: "pt", exported_program: "pt2", onnx: "onnx", safetensors: "safetensors", onnx_int8: "int8.onnx" };
// Formats that outlive TorchScript come first; TorchScript, deprecated by PyTorch 2.14, comes last.
const DOWNLOAD_ORDER = ["exported_program", "onnx", "onnx_int8", "safetensors", "torchscript"];
const PAGE_SIZE = 20;
const main = document.getElementById("main");
// Each page renders into its own view: a page still loading when the user moves on writes into a view
// that is no longer shown, never over the next page.
let currentView = main;
let routeGen = 0;

/* ---------- small helpers ---------- */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;
const fmtInt = (v) => (v === null || v === undefined ? "—" : String(v));
const fmtNum = (v, digits = 4) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
function fmtEta(s) {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
function fmtBytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n} bytes` : `${n.toFixed(1)} ${units[i]}`;
}
const humanize = (key) => key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
function statusBadge(status) { return h("span", { class: `status status-${status}` }, status); }
function studentSummary(s) {
  if (!s) return "—";
  if (s.arch === "mlp") return `mlp ${(s.hidden_sizes || []).join("-")}`;
  if (s.arch === "cnn") return `cnn ${(s.channels || []).join("-")}`;
  return s.arch;
}
function link(href, text) { return h("a", { href }, text); }

/* ---------- the API ---------- */

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.errors = problem.errors || [];
  }
}

function authHeaders(extra) {
  const headers = { ...(extra || {}) };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

async function api(path, { method = "GET", json, form, signal, raw, headers } = {}) {
  const init = { method, signal, headers: authHeaders({ Accept: "application/json", ...(headers || {}) }) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  }
  if (form) init.body = form;
  const r = await fetch(path, init);
  if (!r.ok) {
    let problem;
    try { problem = await r.json(); } catch { problem = { detail: `${r.status} ${r.statusText}` }; }
    const err = new ApiError(r.status, problem);
    if (r.status === 401) askForKey(problem.detail);
    throw err;
  }
  if (raw) return r;
  return r.status === 204 ? null : r.json();
}

async function listAll(path) {
  // Lists are paged (at most 100 a page): read every page.
  const out = [];
  for (let offset = 0; ; offset += 100) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}limit=100&offset=${offset}`);
    out.push(...page.data);
    if (out.length >= page.count || page.data.length === 0) return out;
  }
}

/* ---------- page life: routing, timers, the key prompt ---------- */

let cleanups = [];
let askingForKey = false;
function onLeave(fn) { cleanups.push(fn); }
function leave() { destroyCharts(null); for (const fn of cleanups.splice(0)) { try { fn(); } catch (e) { console.error(e); } } }
function every(ms, fn) { const t = setInterval(fn, ms); onLeave(() => clearInterval(t)); }

function navigate(url) { history.pushState(null, "", url); route(); }

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href]");
  if (!a || a.hasAttribute("download") || a.hasAttribute("data-external") || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui")) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", route);

const forgetKey = document.getElementById("forget-key");
forgetKey.addEventListener("click", () => { sessionStorage.removeItem(KEY_STORE); forgetKey.hidden = true; route(); });

function askForKey(detail) {
  if (askingForKey) return;
  askingForKey = true;
  leave();
  const hadKey = !!sessionStorage.getItem(KEY_STORE);
  sessionStorage.removeItem(KEY_STORE);
  forgetKey.hidden = true;
  const input = h("input", { type: "password", id: "api-key", name: "api_key", autocomplete: "off", required: true });
  const message = hadKey
    ? h("div", { class: "notice", role: "alert" }, "That API key was refused: ", detail || "it is not valid.",
      " Check it and enter it again.")
    : h("p", {}, "This server needs an API key. Enter yours (an operator makes one with ",
      h("code", {}, "distillery admin create-key --tenant NAME"), "). It is kept in this browser tab only.");
  const form = h("form", { class: "key-panel", "aria-labelledby": "key-h", onsubmit: async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORE, key);
    askingForKey = false;
    route();
  } },
  h("h1", { id: "key-h" }, "API key needed"), message,
  h("div", { class: "field" }, h("label", { for: "api-key" }, "API key"), input),
  h("p", {}, h("button", { type: "submit" }, "Use this key")));
  main.replaceChildren(form);
  input.focus();
}

function setCurrentNav(path) {
  for (const a of document.querySelectorAll("header nav a")) {
    const target = new URL(a.href).pathname;
    const current = target === path || (target === "/ui/jobs" && /^\/ui\/(jobs(\/(?!new).*)?)?$/.test(path));
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

async function route() {
  const gen = ++routeGen;
  leave();
  currentView = h("div", { class: "view" }, h("p", { class: "muted" }, "Loading…"));
  main.replaceChildren(currentView);
  askingForKey = false;
  forgetKey.hidden = !sessionStorage.getItem(KEY_STORE);
  const path = location.pathname.replace(/\/+$/, "") || "/ui";
  const q = new URLSearchParams(location.search);
  setCurrentNav(path);
  const parts = path.split("/").slice(2).map(decodeURIComponent); // after /ui
  let page;
  if (parts.length === 0 || (parts[0] === "jobs" && parts.length === 1)) page = () => jobsPage(q);
  else if (parts[0] === "jobs" && parts[1] === "new") page = () => newJobPage();
  else if (parts[0] === "jobs") page = () => jobPage(parts[1]);
  else if (parts[0] === "compare") page = () => comparePage(q);
  else if (parts[0] === "teachers" && parts[1]) page = () => teacherPage(parts[1]);
  else if (parts[0] === "teachers") page = () => teachersPage();
  else if (parts[0] === "transfer-sets" && parts[1]) page = () => transferSetPage(parts[1]);
  else if (parts[0] === "transfer-sets") page = () => transferSetsPage();
  else page = async () => { currentView.replaceChildren(h("h1", {}, "Not found"), h("p", {}, link("/ui/", "Back to the jobs"))); };
  try {
    await page();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // the key prompt is showing
    if (gen !== routeGen) return;
    currentView.replaceChildren(h("h1", {}, "Something went wrong"), h("div", { class: "notice", role: "alert" }, err.message));
    console.error(err);
  }
}

/* ---------- forms: field errors from problem details ---------- */

function field(label, control, { hint, name } = {}) {
  const id = control.id || nextId("f");
  control.id = id;
  if (name) control.dataset.field = name;
  const wrap = h("div", { class: control.type === "checkbox" ? "field check" : "field" });
  if (control.type === "checkbox") wrap.append(control, h("label", { for: id }, label));
  else wrap.append(h("label", { for: id }, label), control);
  if (hint) {
    const hintEl = h("span", { class: "hint", id: `${id}-hint` }, hint);
    wrap.append(hintEl);
    control.setAttribute("aria-describedby", hintEl.id);
  }
  return wrap;
}

function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error, .form-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.endsWith("-error"));
    if (described.length) el.setAttribute("aria-describedby", described.join(" ")); else el.removeAttribute("aria-describedby");
  }
}

function findFieldControl(form, name) {
  // "hyperparameters.epochs" names a control; "student.hidden_sizes.0" its list; "teacher_ids.1" the group.
  // A student's errors carry its arch as a tag ("student.mlp.hidden_sizes"): the form has no such level.
  const parts = String(name || "").replace(/^student\.(mlp|cnn|resnet18|resnet34|mobilenet_v3_small|efficientnet_b0)\./, "student.").split(".");
  while (parts.length) {
    const el = form.querySelector(`[data-field="${CSS.escape(parts.join("."))}"]`);
    if (el) return el;
    parts.pop();
  }
  return null;
}

function showProblem(form, err) {
  clearErrors(form);
  const problem = err instanceof ApiError ? err.problem : { detail: String(err.message || err) };
  const unplaced = [];
  for (const e of problem.errors || []) {
    const control = findFieldControl(form, e.field);
    if (!control) { unplaced.push(e); continue; }
    const errId = `${control.id || (control.id = nextId("f"))}-error`;
    let errEl = document.getElementById(errId);
    if (!errEl) {
      errEl = h("p", { class: "field-error", id: errId, role: "alert" });
      const wrap = control.closest(".field") || control;
      if (control.tagName === "FIELDSET") control.append(errEl); else wrap.append(errEl);
    }
    errEl.textContent = errEl.textContent ? `${errEl.textContent}; ${e.message}` : e.message;
    control.setAttribute("aria-invalid", "true");
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(errId)) control.setAttribute("aria-describedby", [...described, errId].join(" "));
  }
  const placed = problem.errors && problem.errors.length && !unplaced.length;
  const summary = h("div", { class: "notice form-error", role: "alert" },
    err.status ? `The server refused this (${err.status}): ` : "The request failed: ",
    placed ? "see the marked fields. " : "", problem.detail || "");
  form.prepend(summary);
  const first = form.querySelector("[aria-invalid=true]");
  if (first && first.focus) first.focus();
}

function problemNotice(err) {
  return h("div", { class: "notice", role: "alert" }, err instanceof ApiError ? `${err.status}: ${err.message}` : String(err));
}

/* ---------- charts (uPlot) ---------- */

const charts = new Set();
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const c of charts) if (c.root.isConnected) c.setSize({ width: c.root.parentElement.clientWidth, height: c.height });
  }, 100);
});

/* A figure with a line chart. `lines` is [{label, points: [[x, y], ...]}]; `marks` are single points
 * (a sweep's winner). The data drawn is kept on the figure as `chartData`, for people and tests alike. */
function lineChart({ title, metric, xLabel = "epoch", lines, marks = [], yLog = false }) {
  const fig = h("figure", { class: "chart", dataset: { metric } });
  const caption = h("figcaption", {}, title);
  const plot = h("div", { class: "plot" });
  fig.append(caption, plot);
  if (lines.length + marks.length > 3) {
    // uPlot's own legend grows taller than the chart with many lines: a compact one instead.
    fig.append(h("div", { class: "legend" }, lines.map((l, i) => h("span", {},
      h("span", { class: "swatch", style: `background:${l.color || COLORS[i % COLORS.length]}` }), l.label)),
    marks.map((m) => h("span", {}, h("span", { class: "swatch", style: "background:#ffd54a;border:1px solid #111" }), m.label))));
  }
  fig.chartData = { metric, title, xLabel, lines: lines.map((l) => ({ label: l.label, points: l.points })), marks };
  fig.dataset.points = String(lines.reduce((n, l) => n + l.points.length, 0));
  requestAnimationFrame(() => drawLines(fig, plot, xLabel, lines, marks, yLog));
  return fig;
}

const compactFormat = new Intl.NumberFormat("en", { notation: "compact", maximumSignificantDigits: 4 });
function compact(v) {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 10000) ? (a < 0.001 ? v.toExponential(1) : compactFormat.format(v)) : String(+v.toPrecision(4));
}

function drawLines(fig, plot, xLabel, lines, marks, yLog) {
  if (!fig.isConnected || typeof uPlot === "undefined") return;
  const xs = [...new Set([...lines.flatMap((l) => l.points.map((p) => p[0])), ...marks.map((m) => m.x)])].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const column = (points) => {
    const ys = xs.map(() => null);
    for (const [x, y] of points) ys[index.get(x)] = yLog && !(y > 0) ? null : y;
    return ys;
  };
  const data = [xs, ...lines.map((l) => column(l.points)), ...marks.map((m) => column([[m.x, m.y]]))];
  const series = [{ label: xLabel },
    ...lines.map((l, i) => ({ label: l.label, stroke: l.color || COLORS[i % COLORS.length], width: 1.5, spanGaps: true,
      points: { show: xs.length <= 25 } })),
    ...marks.map((m) => ({ label: m.label, stroke: "#111", fill: "#ffd54a", width: 0, paths: () => null,
      points: { show: true, size: 14, width: 2, stroke: "#111", fill: "#ffd54a" } }))];
  const width = Math.max(200, plot.clientWidth || 300);
  const chart = new uPlot({
    width, height: 200, series,
    scales: { x: { time: false }, y: yLog ? { distr: 3 } : {} },
    axes: [{ label: xLabel, size: 36, labelSize: 16, ...(xLabel === "epoch" ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}) },
      { size: 52, values: (u, ticks) => ticks.map(compact) }],
    legend: { show: lines.length + marks.length <= 3, live: true },
    cursor: { drag: { x: true, y: false } },
  }, data, plot);
  chart.height = 200;
  charts.add(chart);
  fig.uplot = chart;
}

function destroyCharts(root) {
  for (const fig of root ? root.querySelectorAll("figure.chart") : []) {
    if (fig.uplot) { charts.delete(fig.uplot); fig.uplot.destroy(); fig.uplot = null; }
  }
  if (!root) { for (const c of charts) c.destroy(); charts.clear(); }
}

/* ---------- jobs list ---------- */

async function teacherNames() {
  const teachers = await listAll("/v1/teachers");
  return new Map(teachers.map((t) => [t.id, t.name]));
}

async function jobsPage(q) {
  const main = currentView;
  const status = q.get("status") || "";
  const offset = Math.max(0, parseInt(q.get("offset") || "0", 10) || 0);
  const select = h("select", { id: "status-filter", name: "status", onchange: () => {
    const params = new URLSearchParams();
    if (select.value) params.set("status", select.value);
    navigate(`/ui/jobs${params.size ? `?${params}` : ""}`);
  } }, h("option", { value: "" }, "any"), STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)));
  const tbody = h("tbody");
  const pager = h("div", { class: "pager" });
  const updated = h("span", { class: "muted", "aria-live": "polite" });
  main.replaceChildren(
    h("h1", {}, "Jobs"),
    h("div", { class: "toolbar" }, field("Status", select), h("a", { href: "/ui/jobs/new" }, "New job"), updated),
    h("section", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { "aria-label": "Jobs" },
      h("thead", {}, h("tr", {}, ["Job", "Status", "Progress", "ETA", "Teachers", "Student", "Created"].map((c) => h("th", { scope: "col" }, c)))),
      tbody)), pager));
  let names = await teacherNames();

  async function refresh() {
    const params = new URLSearchParams({ limit: PAGE_SIZE, offset });
    if (status) params.set("status", status);
    const page = await api(`/v1/jobs?${params}`);
    if (page.data.some((j) => j.teacher_ids.some((t) => !names.has(t)))) names = await teacherNames();
    tbody.replaceChildren(...page.data.map((job) => h("tr", { dataset: { job: job.id } },
      h("td", {}, link(`/ui/jobs/${job.id}`, job.id)),
      h("td", {}, statusBadge(job.status)),
      h("td", {}, h("progress", { max: job.progress.total_epochs || 1, value: job.progress.epoch, "aria-label": `Progress of ${job.id}` }),
        ` ${job.progress.epoch}/${job.progress.total_epochs}`),
      h("td", {}, fmtEta(job.progress.eta_seconds)),
      h("td", {}, job.teacher_ids.map((t, i) => [i ? ", " : "", link(`/ui/teachers/${t}`, names.get(t) || t)])),
      h("td", {}, studentSummary(job.student)),
      h("td", {}, fmtTime(job.created_at)))));
    if (!page.data.length) tbody.append(h("tr", {}, h("td", { colspan: 7 }, status ? `No ${status} jobs.` : "No jobs yet.")));
    const go = (to) => {
      const p = new URLSearchParams(location.search);
      p.set("offset", to);
      navigate(`/ui/jobs?${p}`);
    };
    pager.replaceChildren(
      h("button", { type: "button", class: "secondary", disabled: offset === 0, onclick: () => go(Math.max(0, offset - PAGE_SIZE)) }, "Previous page"),
      h("span", {}, page.count ? `${offset + 1}–${offset + page.data.length} of ${page.count}` : "0 jobs"),
      h("button", { type: "button", class: "secondary", disabled: offset + PAGE_SIZE >= page.count, onclick: () => go(offset + PAGE_SIZE) }, "Next page"));
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  }
  await refresh();
  every(2000, () => refresh().catch((e) => { updated.textContent = `not updated: ${e.message}`; }));
}

/* ---------- one job ---------- */

const METRIC_CHARTS = [
  ["total_loss", "Total loss"], ["soft_loss", "Soft loss"], ["hard_loss", "Hard loss"],
  ["val_accuracy", "Validation accuracy"], ["val_teacher_agreement", "Teacher agreement (validation)"],
  ["val_ece", "Calibration error, ECE (validation)"], ["learning_rate", "Learning rate"],
  ["samples_per_second", "Samples per second"], ["grad_norm_soft", "Gradient norm, soft term"],
  ["grad_norm_hard", "Gradient norm, hard term"], ["grad_norm_ratio", "Gradient norm ratio, soft / hard"],
];

function withRatio(metrics) {
  // The soft/hard gradient-norm ratio, epoch by epoch, where both are known.
  const soft = metrics.grad_norm_soft, hard = metrics.grad_norm_hard;
  if (!soft || !hard) return metrics;
  const hardAt = new Map(hard.map((p) => [p.step, p.value]));
  const ratio = soft.filter((p) => p.value !== null && hardAt.get(p.step)).map((p) => ({ step: p.step, value: p.value / hardAt.get(p.step) }));
  return ratio.length ? { ...metrics, grad_norm_ratio: ratio } : metrics;
}

function metricCharts(runs, labelOf, { yLog = false } = {}) {
  // One chart per metric, one line per run; metrics the service adds later get a chart too.
  const withRatios = runs.map((r) => ({ ...r, metrics: withRatio(r.metrics) }));
  const keys = new Set(withRatios.flatMap((r) => Object.keys(r.metrics)));
  const known = METRIC_CHARTS.filter(([k]) => keys.has(k));
  const extra = [...keys].filter((k) => !METRIC_CHARTS.some(([m]) => m === k)).sort().map((k) => [k, humanize(k)]);
  return [...known, ...extra].map(([key, title]) => lineChart({
    title, metric: key, yLog,
    lines: withRatios.map((r, i) => ({ ...r, color: COLORS[i % COLORS.length] })).filter((r) => r.metrics[key]).map((r) => ({
      label: labelOf(r), color: r.color,
      points: r.metrics[key].filter((p) => p.value !== null).map((p) => [p.step, p.value]) })),
  }));
}

function resultsTable(result) {
  const rows = [["teacher", "Teacher"], ["baseline", "Baseline (from scratch)"], ["student", "Distilled student"]]
    .filter(([k]) => result[k]);
  const hasOmitted = rows.some(([k]) => result[k].omitted_class_errors !== undefined);
  const cols = [["test_errors", "Test errors", fmtInt], ["test_accuracy", "Test accuracy", fmtNum], ["ece", "ECE", fmtNum],
    ["teacher_agreement", "Teacher agreement", fmtNum], ["best_epoch", "Best epoch", fmtInt]];
  if (hasOmitted) cols.push(["omitted_class_errors", "Omitted-class errors", fmtInt]);
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": "Teacher, baseline and student" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Network"), cols.map(([, t]) => h("th", { scope: "col", class: "num" }, t)))),
    h("tbody", {}, rows.map(([k, label]) => h("tr", { dataset: { who: k } }, h("th", { scope: "row" }, label),
      cols.map(([key, , fmt]) => h("td", { class: "num", dataset: { key } }, fmt(result[k][key]))))))));
}

function perClassBars(result) {
  const who = [["teacher", "Teacher"], ["baseline", "Baseline"], ["student", "Distilled student"]]
    .filter(([k]) => result[k] && result[k].per_class_errors);
  if (!who.length) return null;
  const classes = Object.keys(who[0][0] && result[who[0][0]].per_class_errors).sort((a, b) => Number(a) - Number(b));
  const names = result.class_names || [];
  const max = Math.max(1, ...who.flatMap(([k]) => classes.map((c) => result[k].per_class_errors[c] || 0)));
  const fig = h("figure", { class: "chart bars", dataset: { metric: "per_class_errors" } },
    h("figcaption", {}, "Test errors per class"),
    h("div", { class: "legend" }, who.map(([, label], i) => h("span", {}, h("span", { class: "swatch", style: `background:${COLORS[i]}` }), label))),
    classes.map((c) => h("div", { class: "row" }, h("span", { class: "lbl" }, names[Number(c)] ? `${c} ${names[Number(c)]}` : `class ${c}`),
      h("div", { class: "set" }, who.map(([k, label], i) => {
        const n = result[k].per_class_errors[c] || 0;
        return h("div", { class: "bar", role: "img", "aria-label": `${label}, class ${c}: ${n} errors`,
          style: `width:${(100 * n) / max}%;background:${COLORS[i]}` }, n ? String(n) : "");
      })))));
  fig.chartData = { classes, series: who.map(([k, label]) => ({ label, values: classes.map((c) => result[k].per_class_errors[c] || 0) })) };
  return fig;
}

function sweepSection(job) {
  const result = job.result || {};
  const members = result.sweep;
  if (!members || !members.length) return null;
  const best = result.best_member;
  const xKey = members.some((m) => m.temperature !== null && m.temperature !== undefined) ? "temperature" : "soft_weight";
  const groupKey = xKey === "temperature" ? "soft_weight" : "hard_weight";
  const groups = [...new Set(members.map((m) => m[groupKey]))].sort((a, b) => a - b);
  const winner = members.find((m) => m.name === best);
  const chart = (metric, title) => lineChart({
    title, metric: `sweep_${metric}`, xLabel: xKey === "temperature" ? "temperature T" : "soft weight",
    lines: groups.map((g) => ({ label: `${groupKey} = ${g}`, points: members.filter((m) => m[groupKey] === g && m[metric] !== null && m[metric] !== undefined)
      .map((m) => [m[xKey], m[metric]]).sort((a, b) => a[0] - b[0]) })),
    marks: winner && winner[metric] !== null ? [{ label: `winner: ${winner.name}`, name: winner.name, x: winner[xKey], y: winner[metric] }] : [],
  });
  return h("section", { class: "card", "aria-labelledby": "sweep-h" },
    h("h2", { id: "sweep-h" }, "Sweep"),
    h("p", {}, `Winner (${!result.budget ? "lowest validation cross-entropy" : result.budget.within_budget ? "most accurate within the budget" : "nearest to the budget"}): `,
      h("strong", { "data-winner": best }, `★ ${best}`)),
    h("div", { class: "charts wide" }, chart("val_accuracy", `Validation accuracy against ${xKey === "temperature" ? "temperature" : "soft weight"}`),
      chart("test_errors", `Test errors against ${xKey === "temperature" ? "temperature" : "soft weight"}`)),
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Sweep members" },
      h("thead", {}, h("tr", {}, ["Member", "T", "Soft weight", "Hard weight", "Validation accuracy", "Test errors", "Status"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, members.map((m) => h("tr", { class: m.name === best ? "winner" : null },
        h("td", {}, m.name === best ? `★ ${m.name} (winner)` : m.name), h("td", { class: "num" }, fmtInt(m.temperature)),
        h("td", { class: "num" }, fmtInt(m.soft_weight)), h("td", { class: "num" }, fmtInt(m.hard_weight)),
        h("td", { class: "num" }, fmtNum(m.val_accuracy)), h("td", { class: "num" }, fmtInt(m.test_errors)),
        h("td", {}, m.status, m.error ? ` — ${m.error}` : "")))))));
}

async function downloadStudent(jobId, format, button, note) {
  button.disabled = true;
  note.textContent = "downloading…";
  try {
    const r = await api(`/v1/jobs/${jobId}/student?format=${encodeURIComponent(format)}`, { raw: true, headers: { Accept: "application/octet-stream" } });
    const blob = await r.blob();
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: `${jobId}-student.${EXT[format] || format}`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    note.textContent = "";
  } catch (err) {
    note.textContent = `download failed: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

function downloadsList(job) {
  const exports = (job.result && job.result.exports) || {};
  const listed = Object.keys(exports).length ? Object.keys(exports) : job.export_formats;
  const rank = (f) => (DOWNLOAD_ORDER.includes(f) ? DOWNLOAD_ORDER.indexOf(f) : DOWNLOAD_ORDER.length);
  const formats = [...listed].sort((a, b) => rank(a) - rank(b));
  return h("ul", { class: "downloads" }, formats.map((f) => {
    const info = exports[f] || {};
    if (info.error) return h("li", {}, h("strong", {}, f), ": not exported — ", h("span", { class: "error" }, info.error));
    const note = h("span", { class: "muted", "aria-live": "polite" });
    const ready = job.status === "succeeded" && job.student_formats.includes(f);
    const button = h("button", { type: "button", disabled: !ready, dataset: { format: f } }, `Download ${f} (.${EXT[f] || f})`);
    button.addEventListener("click", () => downloadStudent(job.id, f, button, note));
    const deprecated = f === "torchscript" ? h("span", { class: "muted" }, " (deprecated by PyTorch 2.14; prefer exported_program or onnx) ") : " ";
    return h("li", { dataset: { format: f } }, button, deprecated,
      info.sha256 ? h("span", {}, h("span", { class: "muted" }, "sha256 "), h("code", { class: "sha256" }, info.sha256),
        h("span", { class: "muted" }, ` · ${fmtBytes(info.size_bytes)}`)) : h("span", { class: "muted" }, "available once the job has succeeded"),
      " ", note);
  }));
}

function specView(job, names, sets) {
  const hp = job.hyperparameters || {};
  const facts = [
    ["Teachers", job.teacher_ids.map((t, i) => [i ? ", " : "", link(`/ui/teachers/${t}`, names.get(t) || t)])],
    ["Transfer set", link(`/ui/transfer-sets/${job.transfer_set_id}`, sets.get(job.transfer_set_id) || job.transfer_set_id)],
    ["Student", h("code", {}, JSON.stringify(job.student))],
    ["Baseline", job.baseline ? "yes" : "no"],
  ];
  if (job.sweep) facts.push(["Sweep grid", h("code", {}, JSON.stringify(job.sweep))]);
  if (job.omit_classes && job.omit_classes.length) facts.push(["Omitted classes", job.omit_classes.join(", ")], ["Bias correction", job.bias_correction ? "yes" : "no"]);
  if (job.validation_transfer_set_id) facts.push(["Validation set", link(`/ui/transfer-sets/${job.validation_transfer_set_id}`, job.validation_transfer_set_id)]);
  facts.push(["Export formats", job.export_formats.join(", ")]);
  return [
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h3", {}, "Hyperparameters"),
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Hyperparameters" }, h("tbody", {},
      Object.entries(hp).map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", { class: "mono" }, v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v))))))),
  ];
}

async function jobPage(jobId) {
  const main = currentView;
  const [names, setList] = await Promise.all([teacherNames(), listAll("/v1/transfer-sets")]);
  const sets = new Map(setList.map((s) => [s.id, s.name]));
  let job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
  let metrics = await api(`/v1/jobs/${jobId}/metrics`);
  const events = [];
  const readEvents = async () => {
    for (;;) {
      const after = events.length ? events[events.length - 1].id : 0;
      const page = await api(`/v1/jobs/${jobId}/events?after=${after}&limit=1000`);
      events.push(...page.data);
      if (page.data.length < 1000) return;
    }
  };
  await readEvents();

  const head = h("div");
  const summary = h("section", { class: "card", "aria-labelledby": "summary-h" });
  const results = h("section", { class: "card", "aria-labelledby": "results-h" });
  const sweep = h("div");
  const chartsSection = h("section", { class: "card", "aria-labelledby": "charts-h" });
  const downloads = h("section", { class: "card", "aria-labelledby": "downloads-h" });
  const timeline = h("ol", { class: "timeline", "aria-label": "Events" });
  const spec = h("section", { class: "card", "aria-labelledby": "spec-h" }, h("h2", { id: "spec-h" }, "Spec"), specView(job, names, sets));
  main.replaceChildren(head, summary, results, sweep, chartsSection,
    h("div", { class: "layout-2" }, spec, h("div", {}, downloads,
      h("section", { class: "card", "aria-labelledby": "events-h" }, h("h2", { id: "events-h" }, "Events"), timeline))));

  const cancelNote = h("span", { role: "status" });
  function renderHead() {
    const cancel = h("button", { type: "button", class: "danger", disabled: TERMINAL.includes(job.status) || job.cancel_requested,
      onclick: async () => {
        if (!confirm(`Cancel ${job.id}?`)) return;
        try {
          job = await api(`/v1/jobs/${job.id}/cancel`, { method: "POST" });
          cancelNote.textContent = job.status === "cancelled" ? "cancelled" : "cancel requested: the worker stops at its next check";
          renderAll();
        } catch (err) { cancelNote.textContent = `could not cancel: ${err.message}`; }
      } }, "Cancel job");
    head.replaceChildren(h("h1", {}, "Job ", h("span", { class: "mono" }, job.id), " ", statusBadge(job.status)),
      h("div", { class: "toolbar" }, cancel, cancelNote, link(`/ui/compare?jobs=${job.id}`, "Compare with other jobs")));
  }
  function renderSummary() {
    const p = job.progress;
    const attempts = events.filter((e) => e.type === "started").length;
    summary.replaceChildren(h("h2", { id: "summary-h" }, "Status"),
      h("div", { class: "progress-big" }, h("progress", { max: p.total_epochs || 1, value: p.epoch, "aria-label": "Job progress" })),
      h("dl", { class: "facts" },
        h("dt", {}, "Status"), h("dd", { "data-status": job.status }, job.status, job.cancel_requested && !TERMINAL.includes(job.status) ? " (cancel requested)" : ""),
        h("dt", {}, "Progress"), h("dd", { "data-progress": "" }, `epoch ${p.epoch} of ${p.total_epochs}`,
          p.steps_per_epoch && job.status === "running" ? `, step ${p.step} of ${p.steps_per_epoch}` : ""),
        h("dt", {}, "ETA"), h("dd", {}, fmtEta(p.eta_seconds)),
        h("dt", {}, "Attempts"), h("dd", {}, String(attempts)),
        h("dt", {}, "Created"), h("dd", {}, fmtTime(job.created_at)),
        h("dt", {}, "Started"), h("dd", {}, fmtTime(job.started_at)),
        h("dt", {}, "Finished"), h("dd", {}, fmtTime(job.finished_at)),
        job.error ? [h("dt", {}, "Error"), h("dd", { class: "error" }, job.error)] : null));
  }
  function renderResults() {
    const r = job.result;
    if (!r) { results.replaceChildren(h("h2", { id: "results-h" }, "Results"), h("p", { class: "muted" }, "Results appear when the job has succeeded.")); return; }
    const omitted = r.student && r.student.omitted_class_errors !== undefined
      ? h("p", {}, `Errors on the omitted classes (${job.omit_classes.join(", ")}): student ${r.student.omitted_class_errors}`,
        r.baseline && r.baseline.omitted_class_errors !== undefined ? `, baseline ${r.baseline.omitted_class_errors}` : "",
        r.teacher && r.teacher.omitted_class_errors !== undefined ? `, teacher ${r.teacher.omitted_class_errors}` : "") : null;
    results.replaceChildren(h("h2", { id: "results-h" }, "Results"),
      h("div", { class: "layout-2 results" }, h("div", {}, resultsTable(r), omitted, deploymentTable(r)), perClassBars(r)));
  }
  const logScale = h("input", { type: "checkbox", onchange: () => renderCharts() });
  const chartTools = h("div", { class: "toolbar" }, field("Log scale (y axes)", logScale),
    h("span", { class: "muted" }, "Hover a chart to read its values; drag across one to zoom, double-click to reset."));
  function renderCharts() {
    // Each render replaces the charts; the old uPlot instances are destroyed.
    destroyCharts(chartsSection);
    const runs = metrics.runs.filter((r) => Object.keys(r.metrics).length);
    chartsSection.replaceChildren(h("h2", { id: "charts-h" }, "Curves by epoch"), chartTools,
      runs.length ? h("div", { class: "charts" }, metricCharts(runs, (r) => r.name, { yLog: logScale.checked }))
        : h("p", { class: "muted" }, "Curves appear after the first epoch."));
  }
  function renderDownloads() { downloads.replaceChildren(h("h2", { id: "downloads-h" }, "Downloads"), downloadsList(job)); }
  function eventItem(e) {
    return h("li", { class: `ev-${e.type}`, dataset: { id: e.id } }, h("time", { datetime: e.created_at }, new Date(e.created_at).toLocaleTimeString()),
      h("span", { class: "type" }, e.type), e.message);
  }
  function renderEvents() { timeline.replaceChildren(...events.map(eventItem)); }
  function renderSweep() {
    destroyCharts(sweep);
    const s = sweepSection(job);
    const t = temperatureChoiceSection(job);
    sweep.replaceChildren(...[t, budgetSection(job), s].filter(Boolean));
  }
  function renderAll() { renderHead(); renderSummary(); renderResults(); renderSweep(); renderCharts(); renderDownloads(); renderEvents(); }
  renderAll();

  if (TERMINAL.includes(job.status)) return;

  // Live: follow the event stream (fetch, so the key goes as a header), and re-read the job and its
  // metrics when something happens; poll the job too, for progress within an epoch.
  const controller = new AbortController();
  let stopped = false;
  onLeave(() => { stopped = true; controller.abort(); });
  let refreshing = null;
  let lastMetricsEpoch = job.progress.epoch;
  async function refresh() {
    if (refreshing || stopped) return refreshing;
    refreshing = (async () => {
      const was = job.status;
      job = await api(`/v1/jobs/${jobId}`, { signal: controller.signal });
      renderHead(); renderSummary();
      if (job.progress.epoch !== lastMetricsEpoch || TERMINAL.includes(job.status) || was !== job.status) {
        lastMetricsEpoch = job.progress.epoch;
        metrics = await api(`/v1/jobs/${jobId}/metrics`, { signal: controller.signal });
        renderCharts();
      }
      if (TERMINAL.includes(job.status)) { renderResults(); renderSweep(); renderDownloads(); }
    })().finally(() => { refreshing = null; });
    return refreshing;
  }
  const poll = setInterval(() => {
    if (TERMINAL.includes(job.status)) { clearInterval(poll); return; }
    refresh().catch(() => {});
  }, 1500);
  onLeave(() => clearInterval(poll));
  followEvents(jobId, () => (events.length ? events[events.length - 1].id : 0), controller.signal, (e) => {
    if (events.some((x) => x.id === e.id)) return;
    events.push(e);
    timeline.append(eventItem(e));
    refresh().catch(() => {});
  }).then(() => { if (!stopped) refresh().catch(() => {}); }).catch(() => {});
}

async function followEvents(jobId, lastId, signal, onEvent) {
  // Server-Sent Events read with fetch: EventSource cannot send an Authorization header.
  for (let tries = 0; tries < 20 && !signal.aborted; tries++) {
    try {
      const r = await fetch(`/v1/jobs/${jobId}/events/stream`, { signal, headers: authHeaders({ Accept: "text/event-stream", "Last-Event-ID": String(lastId()) }) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return; // the job ended: the server closes the stream
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) onEvent(JSON.parse(data));
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/* ---------- compare ---------- */

async function comparePage(q) {
  const main = currentView;
  const chosen = new Set((q.get("jobs") || "").split(",").filter(Boolean));
  const jobs = (await api("/v1/jobs?limit=100")).data;
  const jobBoxes = h("div", { class: "choices" });
  const runBoxes = h("div", { class: "choices" });
  const table = h("div");
  const chartsBox = h("div", { class: "charts" });
  const metricsCache = new Map();
  main.replaceChildren(h("h1", {}, "Compare runs"),
    h("section", { class: "card" }, h("fieldset", {}, h("legend", {}, "Jobs"), jobs.length ? jobBoxes : h("p", {}, "No jobs yet.")),
      h("fieldset", {}, h("legend", {}, "Runs"), runBoxes)),
    h("section", { class: "card", "aria-labelledby": "cmp-table-h" }, h("h2", { id: "cmp-table-h" }, "Summary"), table),
    h("section", { class: "card", "aria-labelledby": "cmp-charts-h" }, h("h2", { id: "cmp-charts-h" }, "Curves by epoch"), chartsBox));
  for (const job of jobs) {
    const id = nextId("job");
    const box = h("input", { type: "checkbox", id, value: job.id, checked: chosen.has(job.id), onchange: () => {
      if (box.checked) chosen.add(job.id); else chosen.delete(job.id);
      history.replaceState(null, "", `/ui/compare${chosen.size ? `?jobs=${[...chosen].join(",")}` : ""}`);
      update();
    } });
    jobBoxes.append(h("label", { for: id }, box, `${job.id} · ${job.status} · ${studentSummary(job.student)} · T=${job.hyperparameters.temperature}`));
  }
  const runChecked = new Map();
  async function update() {
    for (const id of chosen) if (!metricsCache.has(id)) metricsCache.set(id, await api(`/v1/jobs/${id}/metrics`));
    const runs = [...chosen].filter((id) => metricsCache.has(id)).flatMap((id) => metricsCache.get(id).runs.map((r) => ({ ...r, job: id, key: `${id}/${r.name}` })));
    runBoxes.replaceChildren(...runs.map((r) => {
      const id = nextId("run");
      if (!runChecked.has(r.key)) runChecked.set(r.key, true);
      const box = h("input", { type: "checkbox", id, checked: runChecked.get(r.key), onchange: () => { runChecked.set(r.key, box.checked); draw(); } });
      return h("label", { for: id }, box, r.key);
    }));
    if (!runs.length) runBoxes.append(h("p", { class: "muted" }, "Pick one or more jobs."));
    draw();
    function draw() {
      const picked = runs.filter((r) => runChecked.get(r.key));
      table.replaceChildren(h("div", { class: "table-wrap" }, h("table", { "aria-label": "Compared runs" },
        h("thead", {}, h("tr", {}, ["Run", "Status", "Best epoch", "Validation accuracy", "Test errors", "Test accuracy", "ECE", "Teacher agreement"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, picked.map((r) => {
          const res = r.result || {};
          return h("tr", { dataset: { run: r.key } }, h("th", { scope: "row" }, link(`/ui/jobs/${r.job}`, r.key)), h("td", {}, r.status),
            h("td", { class: "num" }, fmtInt(res.best_epoch)), h("td", { class: "num" }, fmtNum(res.val_accuracy)),
            h("td", { class: "num" }, fmtInt(res.test_errors)), h("td", { class: "num" }, fmtNum(res.test_accuracy)),
            h("td", { class: "num" }, fmtNum(res.ece)), h("td", { class: "num" }, fmtNum(res.teacher_agreement)));
        })))));
      destroyCharts(chartsBox);
      chartsBox.replaceChildren(...metricCharts(picked.filter((r) => Object.keys(r.metrics).length), (r) => r.key));
    }
  }
  await update();
}

/* ---------- teachers ---------- */

function deleteButton(label, path, after) {
  const note = h("span", { class: "error", role: "alert" });
  const button = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!confirm(`${label}?`)) return;
    note.textContent = "";
    try { await api(path, { method: "DELETE" }); after(); } catch (err) {
      note.textContent = err instanceof ApiError ? `Not deleted (${err.status}): ${err.message}` : String(err);
    }
  } }, label);
  return h("span", { class: "delete" }, button, " ", note);
}

function teacherForm(onCreated) {
  const file = h("input", { type: "file", name: "file" });
  const name = h("input", { type: "text", name: "name" });
  const format = h("select", { name: "format" }, ["torchscript", "exported_program", "onnx", "safetensors"].map((f) => h("option", { value: f }, f)));
  const shape = h("input", { type: "text", name: "input_shape", placeholder: "[64]" });
  const arch = h("input", { type: "text", name: "arch", placeholder: "mlp, cnn, resnet18, …" });
  const archConfig = h("input", { type: "text", name: "arch_config", placeholder: '{"num_classes": 10}' });
  const safetensorsOnly = h("div", { class: "grid", hidden: true },
    field("Architecture (safetensors)", arch, { name: "arch" }), field("Architecture config, JSON (safetensors)", archConfig, { name: "arch_config" }));
  const output = h("input", { type: "text", name: "output", placeholder: "probabilities" });
  const outputKind = h("select", { name: "output_kind" }, ["auto", "logits", "probabilities", "log_probabilities"].map((k) => h("option", { value: k }, k)));
  const inputDtype = h("select", { name: "input_dtype" }, ["float32", "float16", "int64", "int32", "bool"].map((d) => h("option", { value: d }, d)));
  const scoring = h("div", { class: "grid" },
    field("Output to distil from", output, { name: "output", hint: "an ONNX output name or an index; empty: the one float output shaped [batch, classes]" }),
    field("Output kind", outputKind, { name: "output_kind", hint: "auto: detected (rows that sum to 1 are probabilities)" }),
    field("Input dtype", inputDtype, { name: "input_dtype", hint: "int64 for token or category ids" }));
  format.addEventListener("change", () => { safetensorsOnly.hidden = format.value !== "safetensors"; });
  const done = h("div", { role: "status" });
  const form = h("form", { "aria-label": "Upload a teacher", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const data = new FormData();
    if (file.files[0]) data.append("file", file.files[0]);
    for (const el of [name, format, shape, outputKind, inputDtype]) data.append(el.name, el.value);
    if (output.value) data.append("output", output.value);
    if (format.value === "safetensors") { if (arch.value) data.append("arch", arch.value); if (archConfig.value) data.append("arch_config", archConfig.value); }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    done.textContent = "uploading and checking the teacher…";
    try {
      const t = await api("/v1/teachers", { method: "POST", form: data });
      clearErrors(form);
      done.replaceChildren(h("div", { class: "notice ok" }, "Uploaded ", link(`/ui/teachers/${t.id}`, `${t.name} (${t.id})`), `: ${t.num_classes} classes.`));
      form.reset();
      onCreated(t);
    } catch (err) { done.textContent = ""; showProblem(form, err); } finally { submit.disabled = false; }
  } },
  h("div", { class: "grid" }, field("Teacher file", file, { name: "file" }), field("Name", name, { name: "name" }),
    field("Format", format, { name: "format" }), field("Input shape", shape, { name: "input_shape", hint: "one sample's shape as JSON, without the batch, e.g. [64] or [3, 32, 32]" })),
  scoring, safetensorsOnly, h("p", {}, h("button", { type: "submit" }, "Upload teacher")), done);
  return form;
}

async function teachersPage() {
  const main = currentView;
  const tbody = h("tbody");
  const count = h("p", { class: "muted" });
  async function refresh() {
    const teachers = await listAll("/v1/teachers");
    count.textContent = `${teachers.length} teacher${teachers.length === 1 ? "" : "s"}`;
    tbody.replaceChildren(...teachers.map((t) => h("tr", { dataset: { teacher: t.id } },
      h("td", {}, link(`/ui/teachers/${t.id}`, t.name)), h("td", { class: "mono" }, t.id), h("td", {}, t.format),
      h("td", { class: "mono" }, JSON.stringify(t.input_shape)), h("td", { class: "num" }, t.num_classes),
      h("td", { class: "num" }, fmtBytes(t.size_bytes)), h("td", {}, fmtTime(t.created_at)),
      h("td", {}, deleteButton(`Delete ${t.name}`, `/v1/teachers/${t.id}`, refresh)))));
  }
  main.replaceChildren(h("h1", {}, "Teachers"),
    h("section", { class: "card" }, count, h("div", { class: "table-wrap" }, h("table", { "aria-label": "Teachers" },
      h("thead", {}, h("tr", {}, ["Name", "Id", "Format", "Input shape", "Classes", "Size", "Uploaded", ""].map((c) => h("th", { scope: "col" }, c)))), tbody))),
    h("section", { class: "card", "aria-labelledby": "upload-h" }, h("h2", { id: "upload-h" }, "Upload a teacher"), teacherForm(refresh)));
  await refresh();
}

async function teacherPage(id) {
  const main = currentView;
  const t = await api(`/v1/teachers/${encodeURIComponent(id)}`);
  const facts = [["Id", t.id], ["Format", t.format], ["Input shape", JSON.stringify(t.input_shape)], ["Classes", t.num_classes],
    ["Architecture", t.arch || "—"], ["Architecture config", t.arch_config ? JSON.stringify(t.arch_config) : "—"],
    ["Output", t.output || "its only output"], ["Output kind", t.output_kind], ["Input dtype", t.input_dtype],
    ["sha256", h("code", {}, t.sha256)], ["Size", fmtBytes(t.size_bytes)], ["Uploaded", fmtTime(t.created_at)]];
  main.replaceChildren(h("h1", {}, "Teacher ", t.name),
    h("section", { class: "card" }, h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("p", {}, deleteButton(`Delete ${t.name}`, `/v1/teachers/${t.id}`, () => navigate("/ui/teachers")))),
    h("p", {}, link("/ui/teachers", "All teachers")));
}

/* ---------- transfer sets ---------- */

function transferSetForms(onCreated) {
  const done = h("div", { role: "status" });
  const created = (ts) => {
    done.replaceChildren(h("div", { class: "notice ok" }, "Created ", link(`/ui/transfer-sets/${ts.id}`, `${ts.name} (${ts.id})`), `: ${ts.num_samples} samples.`));
    onCreated(ts);
  };
  const bName = h("input", { type: "text", name: "name" });
  const builtin = h("select", { name: "builtin" }, h("option", { value: "digits" }, "digits (scikit-learn's 8×8 digits)"));
  const builtinForm = h("form", { "aria-label": "Add a built-in transfer set", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    try { const ts = await api("/v1/transfer-sets", { method: "POST", json: { name: bName.value, builtin: builtin.value } }); clearErrors(builtinForm); builtinForm.reset(); created(ts); } catch (err) { showProblem(builtinForm, err); }
  } }, h("h3", {}, "A built-in set"),
  h("div", { class: "grid" }, field("Name of the built-in set", bName, { name: "name" }), field("Built-in set", builtin, { name: "builtin" })),
  h("p", {}, h("button", { type: "submit" }, "Add built-in set")));

  const file = h("input", { type: "file", name: "file", accept: ".npz,.csv,.parquet,.jsonl,.ndjson,.zip,.tar,.tar.gz,.tgz" });
  const textColumn = h("input", { type: "text", name: "text_column", placeholder: "text" });
  const labelColumn = h("input", { type: "text", name: "label_column", placeholder: "label" });
  const featureColumns = h("input", { type: "text", name: "feature_columns", placeholder: '["age", "income"]' });
  const uName = h("input", { type: "text", name: "name" });
  const labelled = h("input", { type: "checkbox", name: "labelled", checked: true });
  const prep = h("input", { type: "text", name: "preprocessing", placeholder: '{"color": "grayscale", "resize": 28}' });
  const uploadForm = h("form", { "aria-label": "Upload a transfer set", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const data = new FormData();
    if (file.files[0]) data.append("file", file.files[0]);
    data.append("name", uName.value);
    const lower = file.files[0] ? file.files[0].name.toLowerCase() : "";
    const lines = lower.endsWith(".jsonl") || lower.endsWith(".ndjson");
    const texts = lines || (textColumn.value !== "" && (lower.endsWith(".csv") || lower.endsWith(".parquet")));
    const table = !texts && (lower.endsWith(".csv") || lower.endsWith(".parquet"));
    if (texts) {
      if (!lines) data.append("kind", "text");  // a table of texts: the API reads .csv and .parquet as features otherwise
      if (textColumn.value) data.append("text_column", textColumn.value);
      if (labelColumn.value) data.append("label_column", labelColumn.value);
    }
    if (table) { if (labelColumn.value) data.append("label_column", labelColumn.value); if (featureColumns.value) data.append("feature_columns", featureColumns.value); }
    const archive = file.files[0] && !lower.endsWith(".npz") && !table && !texts;
    if (archive) { data.append("labelled", labelled.checked ? "true" : "false"); if (prep.value) data.append("preprocessing", prep.value); }
    const submit = uploadForm.querySelector("button[type=submit]");
    submit.disabled = true;
    try { const ts = await api("/v1/transfer-sets", { method: "POST", form: data }); clearErrors(uploadForm); uploadForm.reset(); created(ts); } catch (err) { showProblem(uploadForm, err); } finally { submit.disabled = false; }
  } }, h("h3", {}, "Upload tensors, a table, texts or images"),
  h("div", { class: "grid" }, field("Transfer set file", file, { name: "file", hint: ".npz (x, y, x_test, y_test), a .csv or .parquet table (a 'split' column of train/test gives the test split), texts (.jsonl, or a table with a text column), or an image archive (.zip, .tar, .tar.gz) of class folders" }),
    field("Name of the upload", uName, { name: "name" }), field("Labelled (image archives)", labelled, { name: "labelled" }),
    field("Preprocessing, JSON (image archives)", prep, { name: "preprocessing" }),
    field("Text column (texts)", textColumn, { name: "text_column", hint: "default text; naming it makes a .csv or .parquet a set of texts" }),
    field("Label column (tables, texts)", labelColumn, { name: "label_column", hint: "default label; without it the set is unlabelled" }),
    field("Feature columns, JSON (tables)", featureColumns, { name: "feature_columns", hint: "default: every other column, in file order" })),
  h("p", {}, h("button", { type: "submit" }, "Upload transfer set")));
  return [builtinForm, uploadForm, done];
}

async function transferSetsPage() {
  const main = currentView;
  const tbody = h("tbody");
  async function refresh() {
    const sets = await listAll("/v1/transfer-sets");
    tbody.replaceChildren(...sets.map((s) => h("tr", { dataset: { transferSet: s.id } },
      h("td", {}, link(`/ui/transfer-sets/${s.id}`, s.name)), h("td", { class: "mono" }, s.id), h("td", {}, s.kind),
      h("td", { class: "num" }, s.num_samples), h("td", { class: "num" }, s.num_test), h("td", { class: "mono" }, JSON.stringify(s.sample_shape)),
      h("td", { class: "num" }, fmtInt(s.num_classes)), h("td", {}, s.labelled ? "yes" : "no"), h("td", {}, fmtTime(s.created_at)),
      h("td", {}, deleteButton(`Delete ${s.name}`, `/v1/transfer-sets/${s.id}`, refresh)))));
  }
  main.replaceChildren(h("h1", {}, "Transfer sets"),
    h("section", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { "aria-label": "Transfer sets" },
      h("thead", {}, h("tr", {}, ["Name", "Id", "Kind", "Samples", "Test", "Sample shape", "Classes", "Labelled", "Created", ""].map((c) => h("th", { scope: "col" }, c)))), tbody))),
    h("section", { class: "card", "aria-labelledby": "add-ts-h" }, h("h2", { id: "add-ts-h" }, "Add a transfer set"), transferSetForms(refresh)));
  await refresh();
}

async function transferSetPage(id) {
  const main = currentView;
  const s = await api(`/v1/transfer-sets/${encodeURIComponent(id)}`);
  const { examples, ...spec } = s.spec || {};
  const facts = [["Id", s.id], ["Kind", s.kind], ["Built-in", s.builtin || "—"], ["Samples (train)", s.num_samples], ["Test samples", s.num_test],
    ["Sample shape", JSON.stringify(s.sample_shape)], ["Classes", fmtInt(s.num_classes)], ["Class names", s.class_names ? s.class_names.join(", ") : "—"],
    ["Labelled", s.labelled ? "yes" : "no"], ["Spec", s.spec ? h("code", {}, JSON.stringify(spec)) : "—"],
    ["sha256", s.sha256 ? h("code", {}, s.sha256) : "—"], ["Created", fmtTime(s.created_at)]];
  main.replaceChildren(h("h1", {}, "Transfer set ", s.name),
    h("section", { class: "card" }, h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("p", {}, deleteButton(`Delete ${s.name}`, `/v1/transfer-sets/${s.id}`, () => navigate("/ui/transfer-sets")))),
    examples && examples.length ? examplesTable(examples) : "",
    h("p", {}, link("/ui/transfer-sets", "All transfer sets")));
}

// A text set's first training rows, as the API kept them at upload (each text cut to 200 characters).
function examplesTable(examples) {
  return h("section", { class: "card", "aria-labelledby": "examples-h" }, h("h2", { id: "examples-h" }, "Examples"),
    h("table", { class: "examples" }, h("thead", {}, h("tr", {}, h("th", {}, "Text"), h("th", {}, "Label"))),
      h("tbody", {}, examples.map(e => h("tr", {}, h("td", {}, e.text), h("td", {}, e.label == null ? "—" : String(e.label)))))));
}

/* ---------- new job ---------- */

let openapiCache = null;
async function schemas() {
  if (!openapiCache) openapiCache = fetch("/openapi.json").then((r) => r.json()).then((d) => d.components.schemas);
  return openapiCache;
}

const HP_LABELS = { scale_soft_by_t2: "Scale soft term by T²", learning_rate: "Learning rate", grad_clip: "Gradient clipping (max norm)",
  validation_fraction: "Validation fraction", early_stopping_patience: "Early stopping patience", warmup_epochs: "Warm-up epochs",
  teacher_cache: "Teacher-output cache", channels_last: "Channels last", compile: "Compile (torch.compile)" };

function schemaControl(key, prop) {
  // A control for one property of a JSON schema, its default filled in.
  const types = prop.anyOf ? prop.anyOf.map((p) => p.type) : [prop.type];
  const orAuto = types.includes("number") && (prop.anyOf || []).some((p) => p.const === "auto" || (p.enum || []).includes("auto"));
  const enumValues = prop.enum || (prop.anyOf || []).flatMap((p) => p.enum || []);
  let control;
  if (orAuto) {
    // A number, or "auto" where the service sets it: free text, sent as a number unless it reads "auto".
    control = h("input", { type: "text", name: key, value: prop.default ?? "", placeholder: "a number, or auto" });
    control.kind = "number-or-auto";
  } else if (enumValues.length) {
    control = h("select", { name: key }, enumValues.map((v) => h("option", { value: v, selected: v === prop.default }, v)));
    control.kind = "string";
  } else if (types.includes("boolean")) {
    control = h("input", { type: "checkbox", name: key, checked: !!prop.default });
    control.kind = "boolean";
  } else if (types.includes("number") || types.includes("integer")) {
    control = h("input", { type: "number", step: "any", name: key, value: prop.default ?? "", placeholder: prop.default === undefined || prop.default === null ? "none" : "" });
    control.kind = types.includes("integer") ? "integer" : "number";
  } else return null;
  control.defaultValue_ = prop.default;
  return control;
}

function numbers(text) {
  return text.split(/[\s,]+/).filter(Boolean).map((v) => (isNaN(Number(v)) ? v : Number(v)));
}

async function newJobPage() {
  const main = currentView;
  const [teachers, sets, comps] = await Promise.all([listAll("/v1/teachers"), listAll("/v1/transfer-sets"), schemas()]);
  const form = h("form", { "aria-label": "New job", novalidate: true });

  const teacherGroup = h("fieldset", { dataset: { field: "teacher_ids" } }, h("legend", {}, "Teachers"),
    teachers.length ? h("div", { class: "choices" }, teachers.map((t, i) => {
      const id = nextId("teacher");
      return h("label", { for: id }, h("input", { type: "checkbox", id, name: "teacher_ids", value: t.id, checked: i === 0 }),
        `${t.name} (${t.id}, input ${JSON.stringify(t.input_shape)}, ${t.num_classes} classes)`);
    })) : h("p", {}, "No teachers yet: ", link("/ui/teachers", "upload one"), "."));
  teacherGroup.id = nextId("f");
  const setOptions = () => sets.map((s) => h("option", { value: s.id }, `${s.name} (${s.id}, ${s.num_samples} samples)`));
  const transferSet = h("select", { name: "transfer_set_id" }, setOptions());
  const validationSet = h("select", { name: "validation_transfer_set_id" }, h("option", { value: "" }, "none: hold out a fraction"), setOptions());

  const arch = h("select", { name: "arch" }, ["mlp", "cnn", "resnet18", "resnet34", "mobilenet_v3_small", "efficientnet_b0"].map((a) => h("option", { value: a }, a)));
  const hidden = h("input", { type: "text", value: "64, 64" });
  const channels = h("input", { type: "text", value: "32, 64" });
  const kernel = h("input", { type: "number", value: "3" });
  const dropout = h("input", { type: "number", step: "any", value: "0" });
  const activation = h("select", {}, ["relu", "gelu", "tanh", "silu"].map((a) => h("option", { value: a }, a)));
  const mlpFields = [field("Hidden sizes", hidden, { name: "student.hidden_sizes", hint: "comma-separated widths" })];
  const cnnFields = [field("Channels", channels, { name: "student.channels", hint: "comma-separated" }), field("Kernel size", kernel, { name: "student.kernel_size" })];
  const sharedFields = [field("Dropout", dropout, { name: "student.dropout" }), field("Activation", activation, { name: "student.activation" })];
  const initWeights = h("select", { name: "student_init_weights" }, h("option", { value: "" }, "none: random initialisation"),
    teachers.filter((t) => t.format === "safetensors").map((t) => h("option", { value: t.id }, `${t.name} (${t.id})`)));
  const showArch = () => {
    for (const f of mlpFields) f.hidden = arch.value !== "mlp";
    for (const f of cnnFields) f.hidden = arch.value !== "cnn";
    for (const f of sharedFields) f.hidden = !["mlp", "cnn"].includes(arch.value);
  };
  arch.addEventListener("change", showArch);
  const studentSet = h("fieldset", {}, h("legend", {}, "Student"),
    h("div", { class: "grid" }, field("Student architecture", arch, { name: "student.arch" }), mlpFields, cnnFields, sharedFields,
      field("Initial weights", initWeights, { name: "student_init_weights", hint: "a safetensors network uploaded as a teacher, matching the student" })));
  studentSet.dataset.field = "student";
  showArch();

  // One settings schema per method (the job's "loss"): its fields, with its own defaults, follow the choice.
  const methodSchemas = Object.fromEntries(((comps.JobCreate.properties.hyperparameters || {}).oneOf || [])
    .map((r) => comps[r.$ref.split("/").pop()]).filter(Boolean).map((m) => [m.properties.loss.const, m]));
  // the schema lists the default method first (models/methods/__init__.py), so the first option is the default
  const loss = h("select", { name: "loss" }, Object.keys(methodSchemas).map((m) => h("option", { value: m }, m)));
  const hpControls = [];
  const hpGrid = h("div", { class: "grid" });
  const cropPad = h("input", { type: "number", step: "1", placeholder: "0" });
  const hflip = h("input", { type: "checkbox" });
  const augmentationFields = [field("Augmentation: random-crop padding", cropPad, { name: "hyperparameters.augmentation.random_crop_padding", hint: "Image inputs [C, H, W] only: pad by this many pixels, crop back at random. Default: none." }),
    field("Augmentation: horizontal flip", hflip, { name: "hyperparameters.augmentation.horizontal_flip", hint: "Flip half the training images. Default: off." })];
  const showMethod = () => {
    hpControls.length = 0;
    const hpFields = [field("Method (loss)", loss, { name: "hyperparameters.loss", hint: "kd, logit_matching, dkd or dist: each has its own parameters below." })];
    for (const [key, prop] of Object.entries((methodSchemas[loss.value] || {}).properties || {})) {
      if (key === "loss") continue;
      const control = schemaControl(key, prop);
      if (!control) continue; // nested objects and lists: augmentation has its own fields below
      hpControls.push([key, control]);
      const dflt = prop.default === undefined || prop.default === null ? "none" : String(prop.default);
      hpFields.push(field(HP_LABELS[key] || humanize(key), control, { name: `hyperparameters.${key}`, hint: `${prop.description ? `${prop.description} ` : ""}Default: ${dflt}.` }));
    }
    hpGrid.replaceChildren(...hpFields, ...augmentationFields);
  };
  loss.addEventListener("change", showMethod);
  showMethod();
  const hpSet = h("fieldset", {}, h("legend", {}, "Hyperparameters"), hpGrid);
  hpSet.dataset.field = "hyperparameters";

  const sweepT = h("input", { type: "text", placeholder: "e.g. 1, 2, 5, 10, 20" });
  const sweepSoft = h("input", { type: "text", placeholder: "e.g. 0.5, 0.9" });
  const sweepHard = h("input", { type: "text", placeholder: "e.g. 0.1, 0.5" });
  const sweepSet = h("fieldset", {}, h("legend", {}, "Sweep grid (optional: one member per combination, the best on validation wins)"),
    h("div", { class: "grid" }, field("Temperatures to sweep", sweepT, { name: "sweep.temperature" }), field("Soft weights to sweep", sweepSoft, { name: "sweep.soft_weight" }),
      field("Hard weights to sweep", sweepHard, { name: "sweep.hard_weight" })));
  sweepSet.dataset.field = "sweep";

  const baseline = h("input", { type: "checkbox", name: "baseline" });
  const omit = h("input", { type: "text", placeholder: "e.g. 3" });
  const bias = h("input", { type: "checkbox" });
  const formatsSet = h("fieldset", { dataset: { field: "export_formats" } }, h("legend", {}, "Export formats"), h("div", { class: "choices" },
    Object.keys(EXT).map((f) => { const id = nextId("fmt"); return h("label", { for: id }, h("input", { type: "checkbox", id, name: "export_formats", value: f, checked: true }), f); })));
  formatsSet.id = nextId("f");
  const optionsSet = h("fieldset", {}, h("legend", {}, "Options"), h("div", { class: "grid" },
    field("Also train a baseline from scratch", baseline, { name: "baseline" }), field("Omit classes", omit, { name: "omit_classes", hint: "comma-separated class indices" }),
    field("Bias correction for omitted classes", bias, { name: "bias_correction" })), formatsSet);

  const submit = h("button", { type: "submit" }, "Submit job");
  form.append(teacherGroup, h("div", { class: "grid" }, field("Transfer set", transferSet, { name: "transfer_set_id" }),
    field("Validation set", validationSet, { name: "validation_transfer_set_id" })), studentSet, hpSet, sweepSet, optionsSet, h("p", {}, submit));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      teacher_ids: [...form.querySelectorAll("input[name=teacher_ids]:checked")].map((c) => c.value),
      transfer_set_id: transferSet.value,
      student: { arch: arch.value },
      hyperparameters: { loss: loss.value },
      baseline: baseline.checked,
      export_formats: [...form.querySelectorAll("input[name=export_formats]:checked")].map((c) => c.value),
    };
    if (validationSet.value) body.validation_transfer_set_id = validationSet.value;
    if (arch.value === "mlp") Object.assign(body.student, { hidden_sizes: numbers(hidden.value) });
    if (arch.value === "cnn") Object.assign(body.student, { channels: numbers(channels.value), kernel_size: kernel.value === "" ? undefined : Number(kernel.value) });
    if (["mlp", "cnn"].includes(arch.value)) Object.assign(body.student, { dropout: dropout.value === "" ? undefined : Number(dropout.value), activation: activation.value });
    for (const [key, c] of hpControls) {
      if (c.kind === "boolean") body.hyperparameters[key] = c.checked;
      else if (c.value === "") continue; // unset: the server's default
      else if (c.kind === "number-or-auto") body.hyperparameters[key] = c.value.trim() === "auto" ? "auto" : Number(c.value);
      else body.hyperparameters[key] = c.kind === "string" ? c.value : Number(c.value);
    }
    const sweep = {};
    for (const [key, el] of [["temperature", sweepT], ["soft_weight", sweepSoft], ["hard_weight", sweepHard]]) if (el.value.trim()) sweep[key] = numbers(el.value);
    if (Object.keys(sweep).length) body.sweep = sweep;
    if (omit.value.trim()) body.omit_classes = numbers(omit.value);
    if (initWeights.value) body.student_init_weights = initWeights.value;
    if (cropPad.value !== "" || hflip.checked) {
      body.hyperparameters.augmentation = { horizontal_flip: hflip.checked };
      if (cropPad.value !== "") body.hyperparameters.augmentation.random_crop_padding = Number(cropPad.value);
    }
    if (bias.checked) body.bias_correction = true;
    submit.disabled = true;
    try {
      const job = await api("/v1/jobs", { method: "POST", json: body });
      navigate(`/ui/jobs/${job.id}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showProblem(form, err);
    } finally { submit.disabled = false; }
  });
  main.replaceChildren(h("h1", {}, "New job"), h("section", { class: "card" }, form));
}

route();
