// One module's page: its figures, last error, actions, activity, recent trajectories,
// tools (and the UI documents they return) and a state browser.
import { html, nothing } from "lit";
import { actionBar } from "./actions.js";
import { api, path } from "./api.js";
import { badge, chartPanel, lag, lastError } from "./overview.js";
import { bytes, count, dateTime, millis } from "./format.js";
import { toolsView } from "./tools.js";

export const page = { module: null, recent: [], recentError: "", keys: null, value: null, stateError: "" };

export async function loadModulePage(name, refresh) {
  if (page.module !== name) Object.assign(page, { module: name, recent: [], keys: null, value: null, stateError: "" });
  try {
    page.recent = (await api(`/v1/trajectories?limit=10&module=${encodeURIComponent(name)}`)).trajectories;
    page.recentError = "";
  } catch (error) {
    page.recentError = error.message;
  }
  refresh();
}

async function listKeys(name, prefix, refresh) {
  try {
    const body = await api(`/v1/modules/${path(name)}/state?prefix=${encodeURIComponent(prefix)}`);
    page.keys = body.keys;
    page.stateError = "";
  } catch (error) {
    page.stateError = error.message;
  }
  refresh();
}

async function showValue(name, key, refresh) {
  try {
    const body = await api(`/v1/modules/${path(name)}/state?key=${encodeURIComponent(key)}`);
    page.value = body.text !== null ? body.text : `(binary, ${body.size} bytes, base64) ${body.base64}`;
    page.stateError = "";
  } catch (error) {
    page.stateError = error.message;
  }
  refresh();
}

const fact = (label, value) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`;

export function moduleView(live, name, refresh, openTrajectories) {
  const m = live.modules.find((x) => x.name === name);
  if (!m) return html`<section class="panel"><h2><a href="#/">Modules</a> / ${name}</h2>
    <p class="muted">${live.health ? "No module of this name is loaded." : "connecting…"}</p></section>`;
  return html`
    <section class="panel">
      <h2><a href="#/">Modules</a> / ${name} <span id="module-state">${badge(m.state)}</span></h2>
      <dl class="facts" id="facts">
        ${fact("version", m.version)} ${fact("kind", m.kind)}
        ${fact("handled", count(m.handled))} ${fact("failed", count(m.failed))}
        ${fact("restarts", count(m.restarts))} ${fact("skipped", count(m.skipped))}
        ${fact("lag (events)", lag(m))} ${fact("fuel", count(m.fuel))}
        ${fact("memory high-water", m.kind === "wasm" ? bytes(m.memory_high_water_bytes) : "native")}
        ${fact("state", bytes(m.state_bytes))} ${fact("outbox", count(m.outbox_backlog))}
        ${fact("dead letters", count(m.dead_letters))} ${fact("last success", dateTime(m.last_ok_ms) || "never")}
        ${Object.entries(m.budgets || {}).map(([b, u]) => html`<div data-budget=${b}><dt>budget ${b}</dt>
          <dd>${count(u.used)} / ${count(u.limit)}</dd></div>`)}
      </dl>
      <h3>Last error</h3>
      <div id="last-error">${lastError(m)}</div>
      ${m.failed_event_id ? html`<p>Stuck on event <code id="failed-event">${m.failed_event_id}</code></p>` : nothing}
      ${actionBar(m, "page", refresh)}
    </section>
    ${chartPanel("chart-module", "Activity", live.samples, (s) => s.modules[name])}
    <section class="panel">
      <h2>Recent trajectories <button class="link" id="all-trajectories" @click=${() => openTrajectories(name)}>explore all →</button></h2>
      ${page.recentError ? html`<p class="action-error" role="alert">${page.recentError}</p>` : nothing}
      <table class="cards" id="recent">
        <thead><tr><th>ended</th><th>outcome</th><th>event</th><th>wall</th><th>host calls</th><th>error</th></tr></thead>
        <tbody>${page.recent.map((t) => html`<tr data-outcome=${t.outcome}>
          <td data-label="ended">${dateTime(t.at_ms)}</td><td data-label="outcome">${badge(t.outcome)}</td>
          <td data-label="event"><code>${t.event_id}</code></td><td data-label="wall" class="num">${millis(t.wall_ns)}</td>
          <td data-label="host calls">${t.calls.map((c) => c.interface + "." + c.function).join(", ")}</td>
          <td data-label="error" class="error">${t.error}</td></tr>`)}</tbody>
      </table>
    </section>
    <section class="panel"><h2>Tools</h2>${toolsView(refresh, name)}</section>
    <section class="panel">
      <h2>State</h2>
      <form id="state-form" @submit=${(e) => { e.preventDefault(); listKeys(name, e.target.prefix.value, refresh); }}>
        <input name="prefix" id="state-prefix" placeholder="key prefix"> <button type="submit">List keys</button>
      </form>
      ${page.stateError ? html`<p class="action-error" role="alert">${page.stateError}</p>` : nothing}
      ${page.keys ? html`<ul id="state-keys">${page.keys.length
        ? page.keys.map((k) => html`<li><button class="key" @click=${() => showValue(name, k, refresh)}>${k}</button></li>`)
        : html`<li class="muted">no keys</li>`}</ul>` : nothing}
      ${page.value !== null ? html`<pre id="state-value">${page.value}</pre>` : nothing}
    </section>`;
}
