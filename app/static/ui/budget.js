/* Distillery dashboard: the best student under a budget, on a budget sweep's job page. A scatter of each
 * member's validation accuracy against its latency (log scale: students differ by orders of magnitude, and
 * a bound may lie far from them), the Pareto front as a line, the budget's latency bound as a vertical line
 * and the winner marked; then the members' costs. Loaded before app.js, whose helpers (h, fmtNum, fmtInt,
 * fmtBytes, compact, charts, COLORS) it calls at render time. The data drawn is kept on the figure as
 * `chartData`, for people and tests alike. */
"use strict";

/* The members no other member beats on both counts (as fast or faster, and as accurate or more), from the
 * fastest up: each is more accurate than every faster one. */
function paretoFront(points) {
  const sorted = [...points].sort((a, b) => a.x - b.x || b.y - a.y);
  const front = [];
  for (const p of sorted) if (!front.length || p.y > front[front.length - 1].y) front.push(p);
  return front.map((p) => [p.x, p.y]);
}

function budgetScatter(job) {
  const result = job.result || {};
  const outcome = result.budget;
  const points = (result.sweep || []).filter((m) => m.latency_ms_p50 != null && m.val_accuracy != null)
    .map((m) => ({ name: m.name, x: m.latency_ms_p50, y: m.val_accuracy, within: m.within_budget === true }));
  const bound = outcome.bounds.latency_ms_p50 ?? null;
  const winner = points.find((p) => p.name === outcome.winner) || null;
  const front = paretoFront(points);
  const fig = h("figure", { class: "chart", dataset: { metric: "budget_scatter" } });
  const plot = h("div", { class: "plot" });
  fig.append(h("figcaption", {}, "Validation accuracy against latency (p50, batch 1)"), plot,
    h("div", { class: "legend" },
      [["within budget", COLORS[2]], ["over budget", COLORS[1]], ["Pareto front", COLORS[0]]].map(([label, color]) =>
        h("span", {}, h("span", { class: "swatch", style: `background:${color}` }), label)),
      bound !== null ? h("span", {}, h("span", { class: "swatch", style: "background:#111" }), `latency bound ${fmtNum(bound, 3)} ms`) : null,
      winner ? h("span", {}, h("span", { class: "swatch", style: "background:#ffd54a;border:1px solid #111" }), `winner: ${winner.name}`) : null));
  fig.chartData = { xLabel: "latency p50 (ms)", yLabel: "validation accuracy", points, front,
    budget: { latency_ms_p50: bound }, winner };
  fig.dataset.points = String(points.length);
  requestAnimationFrame(() => drawBudgetScatter(fig, plot, points, front, bound, winner));
  return fig;
}

function drawBudgetScatter(fig, plot, points, front, bound, winner) {
  if (!fig.isConnected || typeof uPlot === "undefined" || !points.length) return;
  const xs = [...new Set([...points.map((p) => p.x), ...(bound !== null ? [bound] : [])])].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const column = (pairs) => {
    const ys = xs.map(() => null);
    for (const [x, y] of pairs) ys[index.get(x)] = y;
    return ys;
  };
  const dots = (color, size = 8) => ({ stroke: color, fill: color, width: 0, paths: () => null,
    points: { show: true, size, width: 1, stroke: color, fill: color } });
  const data = [xs, column(points.filter((p) => p.within).map((p) => [p.x, p.y])),
    column(points.filter((p) => !p.within).map((p) => [p.x, p.y])), column(front),
    column(winner ? [[winner.x, winner.y]] : [])];
  const series = [{ label: "latency p50 (ms)" }, { label: "within budget", ...dots(COLORS[2]) },
    { label: "over budget", ...dots(COLORS[1]) },
    { label: "Pareto front", stroke: COLORS[0], width: 1.5, spanGaps: true, points: { show: false } },
    { label: "winner", ...dots("#111", 14), points: { show: true, size: 14, width: 2, stroke: "#111", fill: "#ffd54a" } }];
  const drawBound = (u) => { // the bound is a vertical line across the plot, at its latency
    if (bound === null) return;
    const x = u.valToPos(bound, "x", true);
    const { ctx } = u;
    ctx.save();
    ctx.strokeStyle = "#111";
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  };
  const chart = new uPlot({
    width: Math.max(200, plot.clientWidth || 300), height: 220, series,
    scales: { x: { time: false, distr: 3 } },
    axes: [{ label: "latency p50 (ms), log scale", size: 36, labelSize: 16, values: (u, ticks) => ticks.map(compact) },
      { size: 52, values: (u, ticks) => ticks.map(compact) }],
    legend: { show: false },
    hooks: { draw: [drawBound] },
  }, data, plot);
  chart.height = 220;
  charts.add(chart);
  fig.uplot = chart;
}

function budgetSection(job) {
  const result = job.result || {};
  const outcome = result.budget;
  if (!outcome || !result.sweep) return null;
  const bounds = [["latency_ms_p50", (v) => `latency p50 ≤ ${fmtNum(v, 3)} ms`], ["parameters", (v) => `parameters ≤ ${fmtInt(v)}`],
    ["size_bytes", (v) => `size ≤ ${fmtBytes(v)}`]].filter(([k]) => outcome.bounds[k] != null).map(([k, f]) => f(outcome.bounds[k]));
  const members = result.sweep;
  return h("section", { class: "card", "aria-labelledby": "budget-h" },
    h("h2", { id: "budget-h" }, "Best student under the budget"),
    h("p", { dataset: { withinBudget: String(outcome.within_budget) } }, `Budget: ${bounds.join(", ")}. `,
      outcome.within_budget ? "" : h("strong", { class: "error" }, "No member is within budget. "), outcome.reason),
    h("div", { class: "charts wide" }, budgetScatter(job)),
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Members under the budget" },
      h("thead", {}, h("tr", {}, ["Member", "Student", "Validation accuracy", "Latency p50 (ms)", "Parameters", "Size", "Within budget"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, members.map((m) => h("tr", { class: m.name === outcome.winner ? "winner" : null, dataset: { member: m.name } },
        h("td", {}, m.name === outcome.winner ? `★ ${m.name} (winner)` : m.name), h("td", {}, m.student || "—"),
        h("td", { class: "num" }, fmtNum(m.val_accuracy)), h("td", { class: "num" }, fmtNum(m.latency_ms_p50, 3)),
        h("td", { class: "num" }, fmtInt(m.parameters)), h("td", { class: "num" }, fmtBytes(m.size_bytes)),
        h("td", {}, m.within_budget === undefined ? "—" : (m.within_budget ? "yes" : "no"), m.cost_error ? ` — ${m.cost_error}` : "")))))));
}
