/* Distillery dashboard: why temperature "auto" chose what it chose, on a job's page. Loaded before app.js,
 * whose helpers (h, fmtNum) it calls at render time. */
"use strict";

const TEMPERATURE_METHODS = {
  soft_targets: "the teacher's soft targets, before any training",
  soft_targets_checked: "the teacher's soft targets, checked by a full run at the coolest temperature",
  halving: "successive halving on validation cross-entropy",
};

function temperatureChoiceSection(job) {
  const search = (job.result || {}).temperature_search;
  if (!search || !search.candidates) return null; // halving's rounds are in the Sweep section
  const cell = (v, digits) => h("td", { class: "num" }, fmtNum(v, digits));
  const candidates = h("table", { "aria-label": "Temperature candidates" },
    h("thead", {}, h("tr", {}, ["T", "Share off the top class", "Entropy / log(classes)", "Distance from the target", "Status"]
      .map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, search.candidates.map((c) => h("tr", { class: c.status === "chosen" ? "winner" : null, dataset: { temperature: c.temperature } },
      h("td", { class: "num" }, String(c.temperature)), cell(c.off_top_mass, 3), cell(c.normalized_entropy, 3), cell(c.score, 3),
      h("td", {}, c.status)))));
  const checked = search.checked ? h("table", { "aria-label": "Temperature check" },
    h("thead", {}, h("tr", {}, ["Full run", "Role", "Validation cross-entropy", "Validation accuracy", "Status"]
      .map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, search.checked.map((r) => h("tr", { class: r.status === "chosen" ? "winner" : null },
      h("td", {}, `T = ${r.temperature}`), h("td", {}, r.role), cell(r.val_cross_entropy), cell(r.val_accuracy), h("td", {}, r.status))))) : null;
  return h("section", { class: "card", "aria-labelledby": "temperature-h" },
    h("h2", { id: "temperature-h" }, "Temperature choice"),
    h("p", { "data-chosen": search.chosen }, h("strong", {}, `T = ${search.chosen}`), ` chosen by ${TEMPERATURE_METHODS[search.method] || search.method}: `,
      `the share of probability the softened teacher puts off its top class, aimed at ${fmtNum(search.target_off_top_mass, 2)}`,
      search.checked ? `; then the better of two full runs on validation cross-entropy, by ${fmtNum(search.margin)}.`
        : `; margin over the runner-up ${fmtNum(search.margin, 3)}.`),
    h("p", { "data-cost": search.epochs_in_runs }, `Cost: ${fmtNum(search.epochs_in_runs, 2)} × one run (${search.epochs_trained} epochs trained).`),
    h("div", { class: "table-wrap" }, candidates), checked ? h("div", { class: "table-wrap" }, checked) : null);
}
