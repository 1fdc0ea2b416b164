// The cove web console: one page, drawn with lit from the control-plane API and kept
// current by the live stream (GET /v1/stream). Every value from the engine or a
// module goes in through lit bindings, so none of it can become markup.
import { html, render } from "lit";
import { connectStream, setToken, takeTokenFromFragment, token } from "./api.js";
import { badge, overview } from "./overview.js";
import { loadModulePage, moduleView } from "./module.js";
import { loadSystem, systemView } from "./system.js";
import { explorer, filterBy, loadTrajectories, trajectoriesView } from "./trajectories.js";
import { loadTools, toolsView } from "./tools.js";

const HISTORY = 300;
const live = { health: null, modules: [], refused: {}, samples: [], at: 0, streamError: "" };
let stream = null;
let scheduled = false;

function route() {
  const hash = location.hash || "#/";
  const module = hash.match(/^#\/module\/(.+)$/);
  if (module) return { view: "module", name: decodeURIComponent(module[1]) };
  const view = hash.slice(2);
  return { view: ["trajectories", "tools", "system"].includes(view) ? view : "overview" };
}

// Draw on the next frame; many updates in one frame draw once.
function refresh() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => { scheduled = false; draw(); });
}

function openTrajectories(module) {
  filterBy(module);
  location.hash = "#/trajectories";
}

function body(where) {
  switch (where.view) {
    case "module": return moduleView(live, where.name, refresh, openTrajectories);
    case "trajectories": return trajectoriesView(live, refresh);
    case "tools": return html`<section class="panel"><h2>Tools</h2>${toolsView(refresh)}</section>`;
    case "system": return systemView(live, refresh);
    default: return overview(live, refresh);
  }
}

function draw() {
  const where = route();
  const nav = [["overview", "#/", "Overview"], ["trajectories", "#/trajectories", "Trajectories"],
    ["tools", "#/tools", "Tools"], ["system", "#/system", "System"]];
  render(html`
    <header>
      <a href="#/" class="brand" aria-label="cove console">cove</a>
      <span id="engine-status">${live.health ? badge(live.health.status) : badge("connecting")}</span>
      <nav>${nav.map(([view, href, label]) => html`<a href=${href} class=${where.view === view ? "current" : ""}>${label}</a>`)}</nav>
      <form class="token" @submit=${(e) => { e.preventDefault(); setToken(e.target.token.value); reconnect(); }}>
        <input id="token" name="token" type="password" autocomplete="off" placeholder="bearer token" .value=${token()}
          @change=${(e) => { setToken(e.target.value); reconnect(); }}>
      </form>
    </header>
    ${live.streamError ? html`<p id="error" role="alert">${live.streamError}</p>` : ""}
    <main id="view" data-view=${where.view}>${body(where)}</main>`, document.getElementById("app"));
}

function load() {
  const where = route();
  if (where.view === "module") { loadModulePage(where.name, refresh); loadTools(refresh); }
  if (where.view === "tools") loadTools(refresh);
  if (where.view === "system") loadSystem(refresh);
  if (where.view === "trajectories") {
    if (!explorer.pages.length) explorer.pages = [null];
    loadTrajectories(refresh, explorer.pages[explorer.pages.length - 1]);
  }
  refresh();
}

function onEvent(event, data) {
  if (event === "history") {
    live.samples = data.samples;
  } else if (event === "snapshot") {
    const before = live.modules.map((m) => m.handled + m.failed).join();
    Object.assign(live, { health: data.health, modules: data.modules, refused: data.refused, at: Date.now() });
    const last = live.samples[live.samples.length - 1];
    if (!last || data.sample.at_ms > last.at_ms) live.samples = [...live.samples, data.sample].slice(-HISTORY);
    const where = route();
    // A module page's recent trajectories follow its counters.
    if (where.view === "module" && before !== live.modules.map((m) => m.handled + m.failed).join()) {
      loadModulePage(where.name, refresh);
    }
  }
  live.streamError = "";
  refresh();
}

function reconnect() {
  if (stream) stream.stop();
  live.streamError = "";
  stream = connectStream({
    onEvent,
    onError: (error) => { live.streamError = "live updates: " + error.message; refresh(); },
  });
  load();
}

document.addEventListener("DOMContentLoaded", () => {
  takeTokenFromFragment();
  window.addEventListener("hashchange", load);
  window.addEventListener("cove-refresh", refresh);
  reconnect();
});
