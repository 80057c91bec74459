/* What the student buys: the job's deployment report (result.deployment) as a table beside the accuracy
 * table. Loaded before app.js; it calls app.js's helpers (h, fmtNum, fmtInt) only when a job page renders. */
"use strict";

const DEPLOYMENT_ROWS = [["teacher", "Teacher"], ["student", "Student"], ["student_torch", "Student (torch)"],
  ["student_int8", "Student INT8"]];

function fmtBytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return i ? `${n.toFixed(1)} ${units[i]}` : `${n} B`;
}

function fmtRatio(v) { return v === null || v === undefined ? "—" : `${Number(v).toFixed(1)}×`; }

function deploymentTable(result) {
  const report = result && result.deployment;
  if (!report) return null;
  if (report.error) return h("p", { class: "muted" }, `No deployment report: ${report.error}`);
  const rows = DEPLOYMENT_ROWS.filter(([k]) => report[k]);
  if (!rows.length) return null;
  const accuracy = (k) => (report[k].test_accuracy !== undefined ? report[k].test_accuracy
    : result[k === "student_torch" ? "student" : k] && result[k === "student_torch" ? "student" : k].test_accuracy);
  const cols = [["parameters", "Parameters", fmtInt], ["size_bytes", "Size", fmtBytes],
    ["latency_ms_p50", "Latency p50 (ms)", (v) => fmtNum(v, 3)], ["latency_ms_p90", "Latency p90 (ms)", (v) => fmtNum(v, 3)],
    ["samples_per_second", "Samples/s (batch 64)", (v) => (v === undefined ? "—" : Math.round(v).toLocaleString("en"))]];
  const ratios = [["speedup", "Speedup"], ["compression", "Compression"], ["speedup_int8", "INT8 speedup"],
    ["compression_int8", "INT8 compression"]].filter(([k]) => report[k] !== undefined && report[k] !== null);
  return h("div", { class: "deployment" },
    h("h3", { id: "deployment-h" }, "What the student buys"),
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "What the student buys" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Network"), cols.map(([, t]) => h("th", { scope: "col", class: "num" }, t)),
        h("th", { scope: "col", class: "num" }, "Test accuracy"), h("th", { scope: "col" }, "Runtime"))),
      h("tbody", {}, rows.map(([k, label]) => h("tr", { dataset: { who: k } }, h("th", { scope: "row" }, label),
        cols.map(([key, , fmt]) => h("td", { class: "num", dataset: { key } }, fmt(report[k][key]))),
        h("td", { class: "num", dataset: { key: "test_accuracy" } }, fmtNum(accuracy(k))),
        h("td", {}, `${report[k].runtime || "—"}, ${report[k].threads || "?"} thread${report[k].threads === 1 ? "" : "s"}`)))))),
    ratios.length ? h("dl", { class: "facts ratios" }, ratios.map(([k, label]) => [h("dt", {}, label),
      h("dd", { dataset: { ratio: k } }, fmtRatio(report[k]))])) : null,
    report.student_int8 && report.student_int8.agreement_with_fp32 !== undefined
      ? h("p", { class: "muted" }, `The INT8 student agrees with the fp32 one on ${fmtNum(report.student_int8.agreement_with_fp32 * 100, 1)}% of the test samples.`) : null,
    // a text job's report has no INT8 row and says why; so does a job whose quantization failed
    !report.student_int8 && report.student_int8_error
      ? h("p", { class: "muted", dataset: { why: "student_int8" } }, `No INT8 student: ${report.student_int8_error}.`) : null);
}
