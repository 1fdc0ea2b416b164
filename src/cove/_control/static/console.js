// The cove web console: modules; per module its numbers, an activity chart, recent
// trajectories, revive and a state browser.
// Everything it shows comes from the control-plane API; text goes in with
// textContent only, so module names and errors cannot inject markup.
"use strict";

const REFRESH_MS = 1000;
let timer = null;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node[key] = value;
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

function token() { return sessionStorage.getItem("cove-token") || ""; }

async function api(path, options = {}) {
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const response = await fetch(path, { ...options, headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function showError(error) {
  const box = document.getElementById("error");
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : "";
}

function badge(state) { return el("span", { className: "badge " + state, dataset: { state } }, state); }

async function renderHealth() {
  const health = await api("/health");
  const node = document.getElementById("engine-status");
  node.className = "badge " + health.status;
  node.textContent = health.status;
}

async function renderList(view) {
  const { modules, refused } = await api("/v1/modules");
  const rows = modules.map((m) =>
    el("tr", { dataset: { module: m.name } },
      el("td", {}, el("a", { href: "#/module/" + encodeURIComponent(m.name) }, m.name)),
      el("td", { className: "state" }, badge(m.state)),
      el("td", {}, m.version), el("td", {}, m.handled), el("td", {}, m.failed),
      el("td", {}, m.restarts), el("td", {}, m.queue_depth), el("td", {}, m.fuel.toLocaleString()),
      el("td", { className: "error" }, m.last_error)));
  const table = el("table", {},
    el("thead", {}, el("tr", {}, ...["module", "state", "version", "handled", "failed",
      "restarts", "queue", "fuel", "last error"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows));
  const refusedList = Object.entries(refused).map(([path, error]) =>
    el("p", { className: "error" }, "refused " + path + ": " + error));
  view.replaceChildren(el("h1", {}, "Modules"), el("div", { className: "scroll" }, table), ...refusedList);
}

async function revive(name) {
  try {
    await api("/v1/modules/" + encodeURIComponent(name) + "/revive", { method: "POST" });
    showError(null);
    await refresh();
  } catch (error) { showError(error); }
}

const HISTORY = 60;
const history = { module: null, samples: [] };

function chart(samples) {
  // Events handled (and failed) per refresh over the last minute, as two polylines.
  const width = 300, height = 60;
  const deltas = samples.slice(1).map((s, i) => ({
    handled: s.handled - samples[i].handled, failed: s.failed - samples[i].failed }));
  const top = Math.max(1, ...deltas.map((d) => d.handled + d.failed));
  const line = (key, cls) => {
    const svgLine = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    svgLine.setAttribute("class", cls);
    svgLine.setAttribute("points", deltas.map((d, i) =>
      `${(i / (HISTORY - 2)) * width},${height - (d[key] / top) * (height - 4) - 2}`).join(" "));
    return svgLine;
  };
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("id", "activity");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "events handled and failed per second");
  svg.append(line("handled", "handled"), line("failed", "failed"));
  return svg;
}

async function listKeys(name) {
  const prefix = document.getElementById("state-prefix").value;
  const target = document.getElementById("state-keys");
  try {
    const body = await api("/v1/modules/" + encodeURIComponent(name) + "/state?prefix=" + encodeURIComponent(prefix));
    target.replaceChildren(...body.keys.map((key) =>
      el("li", {}, el("button", { className: "key", on: { click: () => showValue(name, key) } }, key))));
    if (!body.keys.length) target.replaceChildren(el("li", {}, "no keys"));
    showError(null);
  } catch (error) { showError(error); }
}

async function showValue(name, key) {
  try {
    const body = await api("/v1/modules/" + encodeURIComponent(name) + "/state?key=" + encodeURIComponent(key));
    document.getElementById("state-value").textContent = body.text !== null
      ? body.text : "(binary, " + body.size + " bytes, base64) " + body.base64;
    showError(null);
  } catch (error) { showError(error); }
}

function moduleSkeleton(view, name) {
  view.dataset.module = name;
  history.module = name;
  history.samples = [];
  view.replaceChildren(
    el("h1", {}, el("a", { href: "#/" }, "Modules"), " / ", name, " ", el("span", { id: "module-state" })),
    el("div", { id: "facts", className: "facts" }),
    el("p", { id: "last-error", className: "error" }),
    el("button", { id: "revive", disabled: true, on: { click: () => revive(name) } }, "Revive"),
    el("h1", {}, "Activity"), el("div", { id: "chart" }),
    el("h1", {}, "Recent trajectories"), el("div", { id: "trajectories-box", className: "scroll" }),
    el("h1", {}, "State"),
    el("form", { id: "state-form", on: { submit: (e) => { e.preventDefault(); listKeys(name); } } },
      el("input", { id: "state-prefix", placeholder: "key prefix" }), " ",
      el("button", { type: "submit" }, "List keys")),
    el("ul", { id: "state-keys" }), el("pre", { id: "state-value" }));
}

async function renderModule(view, name) {
  const quoted = encodeURIComponent(name);
  const [m, traces] = await Promise.all([
    api("/v1/modules/" + quoted),
    api("/v1/trajectories?limit=50&module=" + quoted),
  ]);
  if (view.dataset.module !== name) moduleSkeleton(view, name);
  history.samples = [...history.samples, { handled: m.handled, failed: m.failed }].slice(-HISTORY);
  const fact = (label, value) => el("div", {}, el("b", {}, label), value);
  document.getElementById("module-state").replaceChildren(badge(m.state));
  document.getElementById("facts").replaceChildren(
    fact("version", m.version), fact("handled", m.handled), fact("failed", m.failed),
    fact("restarts", m.restarts), fact("queue", m.queue_depth), fact("fuel", m.fuel.toLocaleString()),
    fact("state bytes", m.state_bytes), fact("outbox", m.outbox_backlog));
  document.getElementById("last-error").textContent = m.last_error;
  document.getElementById("revive").disabled = m.state !== "dead";
  document.getElementById("chart").replaceChildren(chart(history.samples));
  const rows = traces.trajectories.map((t) =>
    el("tr", { dataset: { outcome: t.outcome } },
      el("td", {}, new Date(t.at_ms).toLocaleTimeString()),
      el("td", {}, badge(t.outcome)), el("td", {}, t.event_id),
      el("td", {}, (t.wall_ns / 1e6).toFixed(2) + " ms"), el("td", {}, t.fuel.toLocaleString()),
      el("td", {}, t.calls.map((c) => c.interface + "." + c.function + (c.error ? " !" : "")).join(", ")),
      el("td", { className: "error" }, t.error)));
  document.getElementById("trajectories-box").replaceChildren(el("table", { id: "trajectories" },
    el("thead", {}, el("tr", {}, ...["time", "outcome", "event", "wall", "fuel", "host calls", "error"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows)));
}

async function refresh() {
  clearTimeout(timer);
  const view = document.getElementById("view");
  const match = location.hash.match(/^#\/module\/(.+)$/);
  try {
    await renderHealth();
    if (match) await renderModule(view, decodeURIComponent(match[1]));
    else { delete view.dataset.module; await renderList(view); }
  } catch (error) { showError(error); }
  timer = setTimeout(refresh, REFRESH_MS);
}

function takeTokenFromFragment() {
  // `cove run` prints the console URL with the token in the fragment (#token=...):
  // keep it for this tab only and drop it from the address bar and history.
  const match = location.hash.match(/^#token=([^&/]+)$/);
  if (!match) return;
  sessionStorage.setItem("cove-token", decodeURIComponent(match[1]));
  window.history.replaceState(null, "", location.pathname + location.search + "#/");
}

document.addEventListener("DOMContentLoaded", () => {
  takeTokenFromFragment();
  const input = document.getElementById("token");
  input.value = token();
  input.addEventListener("change", () => sessionStorage.setItem("cove-token", input.value.trim()));
  window.addEventListener("hashchange", () => { showError(null); refresh(); });
  refresh();
});
