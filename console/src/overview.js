// The overview: engine health (and why it is degraded), activity charts, the modules.
import { html, nothing } from "lit";
import { ref } from "lit/directives/ref.js";
import { actionBar } from "./actions.js";
import { drawRates, rates } from "./charts.js";
import { ago, bytes, count, dateTime } from "./format.js";

export const badge = (state) => html`<span class="badge ${state}" data-state=${state}>${state}</span>`;

export function lastError(m) {
  if (!m.last_error) return html`<span class="muted">none</span>`;
  const recovered = m.state === "running" && m.last_ok_ms && m.last_ok_ms > (m.last_error_ms || 0);
  return html`<div class="last-error ${recovered ? "recovered" : ""}">
    ${recovered ? html`<span class="badge ok">recovered</span> ` : nothing}
    <time title=${dateTime(m.last_error_ms)}>${dateTime(m.last_error_ms)}</time>
    ${m.last_error_event_id ? html`<span class="event">event <code>${m.last_error_event_id}</code></span>` : nothing}
    <span class="text">${m.last_error}</span>
  </div>`;
}

export function healthPanel(health) {
  if (!health) return html`<section class="panel" id="health">connecting…</section>`;
  return html`<section class="panel" id="health">
    <h2>Engine ${badge(health.status)}</h2>
    ${health.problems && health.problems.length
      ? html`<ul class="problems" id="problems">${health.problems.map((p) => html`<li>${p}</li>`)}</ul>`
      : html`<p class="muted">All modules running, all sources up.</p>`}
  </section>`;
}

export function chartPanel(id, title, samples, pick) {
  const data = rates(samples, pick);
  return html`<section class="panel chart-panel">
    <h2>${title}</h2>
    <div class="chart" id=${id} ${ref((box) => drawRates(box, data))}></div>
  </section>`;
}

const STALE_LAG = "the last known lag: the journal's server is away";

/** Events waiting that it subscribes to; with a "?" while that is only the last known count
 * (queue_depth_stale: the journal's server cannot be asked, e.g. NATS away). */
export function lag(m) {
  return m.queue_depth_stale
    ? html`${count(m.queue_depth)}<span class="stale" title=${STALE_LAG}>?</span>`
    : count(m.queue_depth);
}

function lagTitle(m) {
  return m.queue_depth_stale ? STALE_LAG : "events waiting that it subscribes to";
}

function moduleRow(m, refresh) {
  const link = "#/module/" + encodeURIComponent(m.name);
  return html`<tr data-module=${m.name}>
    <td data-label="module"><a href=${link}>${m.name}</a> <span class="muted">${m.version}</span></td>
    <td data-label="state">${badge(m.state)}</td>
    <td data-label="handled" class="num">${count(m.handled)}</td>
    <td data-label="failed" class="num">${count(m.failed)}</td>
    <td data-label="lag" class="num" title=${lagTitle(m)}>${lag(m)}</td>
    <td data-label="fuel" class="num">${count(m.fuel)}</td>
    <td data-label="memory" class="num">${m.kind === "wasm" ? bytes(m.memory_high_water_bytes) : "native"}</td>
    <td data-label="outbox" class="num">${count(m.outbox_backlog)}${m.dead_letters ? html` <span class="badge failed">+${m.dead_letters} dead</span>` : nothing}</td>
    <td data-label="last error" class="error-cell">${lastError(m)}</td>
    <td data-label="actions">${actionBar(m, "row", refresh)}</td>
  </tr>`;
}

export function modulesTable(modules, refresh) {
  const heads = ["module", "state", "handled", "failed", "lag", "fuel", "memory", "outbox", "last error", "actions"];
  return html`<table class="cards" id="modules">
    <thead><tr>${heads.map((h) => html`<th>${h}</th>`)}</tr></thead>
    <tbody>${modules.map((m) => moduleRow(m, refresh))}</tbody>
  </table>`;
}

export function overview(live, refresh) {
  const refused = Object.entries(live.refused || {});
  return html`
    <div class="grid">
      ${healthPanel(live.health)}
      ${chartPanel("chart-all", "Activity, all modules", live.samples, (s) => [s.handled, s.failed])}
    </div>
    <section class="panel">
      <h2>Modules <span class="muted">${live.modules.length} loaded, updated ${ago(live.at)}</span></h2>
      ${modulesTable(live.modules, refresh)}
      ${refused.map(([p, e]) => html`<p class="error" data-refused=${p}>refused ${p}: ${e}</p>`)}
    </section>`;
}
