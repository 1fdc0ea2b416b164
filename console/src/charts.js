// Events/s and failures/s charts (uPlot): time on x, rate on y, a legend, drawn at the
// width of their box and redrawn as it changes.
import uPlot from "uplot";

const charts = new WeakMap();

// Rates between consecutive samples: [times (s), events/s, failures/s].
export function rates(samples, pick) {
  const xs = [], handled = [], failed = [];
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [pick(samples[i - 1]), pick(samples[i])];
    const dt = (samples[i].at_ms - samples[i - 1].at_ms) / 1000;
    if (!a || !b || dt <= 0) continue;
    xs.push(samples[i].at_ms / 1000);
    handled.push(Math.max(0, (b[0] - a[0]) / dt));
    failed.push(Math.max(0, (b[1] - a[1]) / dt));
  }
  return [xs, handled, failed];
}

function options(width) {
  return {
    width,
    height: 180,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { stroke: "#556", grid: { stroke: "#eef0f3" } },
      { label: "per second", stroke: "#556", grid: { stroke: "#eef0f3" }, size: 50 },
    ],
    series: [
      { label: "time", value: (_u, v) => (v === null ? "–" : new Date(v * 1000).toLocaleTimeString()) },
      { label: "events/s", stroke: "#2b8a3e", width: 2, value: (_u, v) => (v === null ? "–" : v.toFixed(1)) },
      { label: "failures/s", stroke: "#c92a2a", width: 2, value: (_u, v) => (v === null ? "–" : v.toFixed(1)) },
    ],
  };
}

// Attach (once) or update the chart living in `box`.
export function drawRates(box, data) {
  if (!box) return;
  let chart = charts.get(box);
  if (!chart) {
    const width = Math.max(200, box.clientWidth);
    chart = new uPlot(options(width), data, box);
    charts.set(box, chart);
    new ResizeObserver(() => {
      const w = Math.max(200, box.clientWidth);
      if (w !== chart.width) chart.setSize({ width: w, height: 180 });
    }).observe(box);
    return;
  }
  chart.setData(data);
}

const COLORS = ["#1c7ed6", "#2b8a3e", "#e8590c", "#862e9c", "#c92a2a"];

// An A2UI chart component: {x: [numbers or labels], series: [{label, values}]}, drawn
// once (a module's document does not change under the page).
export function drawSeries(box, spec) {
  if (!box || charts.has(box)) return;
  const labels = Array.isArray(spec.x) ? spec.x.map(String) : [];
  const numeric = Array.isArray(spec.x) && spec.x.every((v) => typeof v === "number");
  const xs = numeric ? spec.x : labels.map((_, i) => i);
  const series = (Array.isArray(spec.series) ? spec.series : []).slice(0, COLORS.length);
  const data = [xs, ...series.map((s) => (Array.isArray(s.values) ? s.values.map((v) => (typeof v === "number" ? v : null)) : []))];
  const chart = new uPlot({
    width: Math.max(200, box.clientWidth),
    height: 160,
    scales: { x: { time: false } },
    axes: [
      { stroke: "#556", values: numeric ? undefined : (_u, ticks) => ticks.map((t) => labels[t] ?? "") },
      { stroke: "#556", label: String(spec.y_label || "") },
    ],
    series: [{ label: String(spec.x_label || "x") }, ...series.map((s, i) => ({ label: String(s.label || ""), stroke: COLORS[i], width: 2 }))],
  }, data, box);
  charts.set(box, chart);
}
