// The trajectory explorer: filter by module, outcome and time, page through, and open
// one to see every host call with its duration, summary and error.
import { html, nothing } from "lit";
import { api } from "./api.js";
import { badge } from "./overview.js";
import { count, dateTime, micros, millis } from "./format.js";

const PAGE = 50;
export const explorer = {
  filters: { module: "", outcome: "", since: "", until: "" },
  pages: [],        // the `before` cursor of every page shown so far (null: the newest)
  rows: [], next: null, error: "", loading: false, open: null,
};

function isoUtc(local) { return local ? new Date(local).toISOString() : ""; }

export async function loadTrajectories(refresh, before = null) {
  const f = explorer.filters;
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (f.module) query.set("module", f.module);
  if (f.outcome) query.set("outcome", f.outcome);
  if (f.since) query.set("since", isoUtc(f.since));
  if (f.until) query.set("until", isoUtc(f.until));
  if (before !== null) query.set("before", String(before));
  explorer.loading = true;
  refresh();
  try {
    const page = await api("/v1/trajectories?" + query);
    explorer.rows = page.trajectories;
    explorer.next = page.next && page.next.before !== undefined ? page.next.before : null;
    explorer.error = "";
  } catch (error) {
    explorer.error = error.message;
  }
  explorer.loading = false;
  refresh();
}

export function filterBy(module, outcome = "") {
  Object.assign(explorer.filters, { module, outcome, since: "", until: "" });
  explorer.pages = [null];
  explorer.open = null;
}

function detail(t) {
  return html`<section class="panel" id="trajectory-detail" data-trajectory=${t.id}>
    <h2>Trajectory ${t.id} ${badge(t.outcome)}
      <button class="link" @click=${() => { explorer.open = null; window.dispatchEvent(new Event("cove-refresh")); }}>close</button></h2>
    <dl class="facts">
      <div><dt>module</dt><dd>${t.module}</dd></div>
      <div><dt>event</dt><dd><code>${t.event_id}</code></dd></div>
      <div><dt>journal seq</dt><dd>${t.seq || "– (tool call)"}</dd></div>
      <div><dt>ended</dt><dd>${dateTime(t.at_ms)}</dd></div>
      <div><dt>wall</dt><dd>${millis(t.wall_ns)}</dd></div>
      <div><dt>fuel</dt><dd>${count(t.fuel)}</dd></div>
    </dl>
    ${t.error ? html`<p class="error">${t.error}</p>` : nothing}
    <h3>Host calls (${t.calls.length})</h3>
    <table class="cards" id="host-calls">
      <thead><tr><th>#</th><th>call</th><th>duration</th><th>summary</th><th>error</th></tr></thead>
      <tbody>${t.calls.map((c, i) => html`<tr data-call=${i}>
        <td data-label="#">${i + 1}</td>
        <td data-label="call"><code>${c.interface}.${c.function}</code></td>
        <td data-label="duration" class="num">${micros(c.duration_ns)}</td>
        <td data-label="summary" class="wrap">${c.summary}</td>
        <td data-label="error" class="error">${c.error || ""}</td></tr>`)}</tbody>
    </table>
  </section>`;
}

export function trajectoriesView(live, refresh) {
  const f = explorer.filters;
  const set = (key) => (e) => { f[key] = e.target.value; explorer.pages = [null]; loadTrajectories(refresh); };
  const page = explorer.pages.length;
  const older = () => { explorer.pages.push(explorer.next); loadTrajectories(refresh, explorer.next); };
  const newer = () => { explorer.pages.pop(); loadTrajectories(refresh, explorer.pages[explorer.pages.length - 1]); };
  const open = explorer.rows.find((t) => t.id === explorer.open);
  return html`<section class="panel">
    <h2>Trajectories</h2>
    <form class="filters" id="trajectory-filters" @submit=${(e) => { e.preventDefault(); loadTrajectories(refresh); }}>
      <label>module <select name="module" .value=${f.module} @change=${set("module")}>
        <option value="">all</option>
        ${live.modules.map((m) => html`<option value=${m.name} ?selected=${f.module === m.name}>${m.name}</option>`)}
      </select></label>
      <label>outcome <select name="outcome" .value=${f.outcome} @change=${set("outcome")}>
        ${["", "ok", "failed", "skipped"].map((o) => html`<option value=${o} ?selected=${f.outcome === o}>${o || "all"}</option>`)}
      </select></label>
      <label>since <input type="datetime-local" name="since" step="1" .value=${f.since} @change=${set("since")}></label>
      <label>until <input type="datetime-local" name="until" step="1" .value=${f.until} @change=${set("until")}></label>
      <button type="submit">Refresh</button>
    </form>
    ${explorer.error ? html`<p class="action-error" role="alert">${explorer.error}</p>` : nothing}
    <table class="cards" id="trajectories">
      <thead><tr><th>ended</th><th>module</th><th>outcome</th><th>event</th><th>wall</th><th>fuel</th><th>host calls</th><th>error</th></tr></thead>
      <tbody>${explorer.rows.map((t) => html`<tr data-outcome=${t.outcome} data-id=${t.id}
          class=${explorer.open === t.id ? "selected" : ""}
          @click=${() => { explorer.open = t.id; refresh(); }}>
        <td data-label="ended">${dateTime(t.at_ms)}</td>
        <td data-label="module">${t.module}</td>
        <td data-label="outcome">${badge(t.outcome)}</td>
        <td data-label="event"><button class="link" title="show its host calls">${t.event_id}</button></td>
        <td data-label="wall" class="num">${millis(t.wall_ns)}</td>
        <td data-label="fuel" class="num">${count(t.fuel)}</td>
        <td data-label="host calls" class="num">${t.calls.length}</td>
        <td data-label="error" class="error">${t.error}</td></tr>`)}</tbody>
    </table>
    ${!explorer.rows.length && !explorer.loading ? html`<p class="muted">No trajectories match.</p>` : nothing}
    <div class="pager">
      <button id="newer" ?disabled=${page <= 1} @click=${newer}>← Newer</button>
      <span>page ${page}</span>
      <button id="older" ?disabled=${explorer.next === null} @click=${older}>Older →</button>
    </div>
  </section>
  ${open ? detail(open) : nothing}`;
}
