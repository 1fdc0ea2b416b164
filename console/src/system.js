// Hooks, chain sources, actions held for approval (approve/deny) and the outbox (backlog per
// module, dead letters with retry/drop).
import { html, nothing } from "lit";
import { api } from "./api.js";
import { badge } from "./overview.js";
import { count, dateTime } from "./format.js";

export const system = {
  hooks: null, hooksError: "", dead: null, deadError: "", deadAction: "", dropping: null,
  held: null, heldError: "", heldAction: "",
};

export async function loadSystem(refresh) {
  const [hooks, dead, held] = await Promise.allSettled(
    [api("/v1/hooks"), api("/v1/outbox/dead?limit=100"), api("/v1/approvals?limit=100")]);
  system.held = held.status === "fulfilled" ? held.value.approvals : null;
  system.heldError = held.status === "rejected" ? held.reason.message : "";
  system.hooks = hooks.status === "fulfilled" ? hooks.value : null;
  system.hooksError = hooks.status === "rejected" ? hooks.reason.message : "";
  system.dead = dead.status === "fulfilled" ? dead.value.dead_letters : null;
  system.deadError = dead.status === "rejected" ? dead.reason.message : "";
  refresh();
}

async function deadAction(verb, ids, refresh) {
  try {
    const answer = await api(`/v1/outbox/dead/${verb}`, { method: "POST", body: { ids } });
    system.deadAction = `${verb === "retry" ? "queued again" : "dropped"}: ${(answer.retried || answer.dropped || []).length}`;
  } catch (error) {
    system.deadAction = `${verb} failed: ${error.message}`;
  }
  await loadSystem(refresh);
}

async function decide(id, verb, refresh) {
  try {
    await api(`/v1/approvals/${id}/${verb}`, { method: "POST" });
    system.heldAction = `${verb === "approve" ? "approved" : "denied"}: ${id}`;
  } catch (error) {
    system.heldAction = `${verb} failed: ${error.message}`;
  }
  await loadSystem(refresh);
}

function approvalsPanel(refresh) {
  return html`
    ${system.heldError ? html`<p class="action-error" role="alert">${system.heldError}</p>` : nothing}
    ${system.heldAction ? html`<p class="action-done" role="status">${system.heldAction}</p>` : nothing}
    ${system.held && system.held.length ? html`<table class="cards" id="approvals">
      <thead><tr><th>id</th><th>module</th><th>to</th><th>why</th><th>held</th><th>body</th><th></th></tr></thead>
      <tbody>${system.held.map((h) => html`<tr data-held=${h.id}>
        <td data-label="id">${h.id}</td><td data-label="module">${h.module}</td>
        <td data-label="to">${h.transport}:${h.recipient}</td><td data-label="why">${h.reason}</td>
        <td data-label="held">${dateTime(h.held_ms)}</td><td data-label="body"><code>${h.body.slice(0, 120)}</code></td>
        <td data-label="actions"><div class="actions">
          <button @click=${() => decide(h.id, "approve", refresh)}>Approve</button>
          <button class="danger" @click=${() => decide(h.id, "deny", refresh)}>Deny</button></div></td></tr>`)}</tbody>
    </table>` : system.held ? html`<p class="muted">Nothing waits for approval.</p>` : nothing}`;
}

function hooksPanel() {
  if (system.hooksError) return html`<p class="action-error" role="alert">${system.hooksError}</p>`;
  if (!system.hooks) return html`<p class="muted">loading…</p>`;
  const points = Object.entries(system.hooks.points);
  if (!points.length) return html`<p class="muted">No module registers a hook.</p>`;
  return html`<table class="cards" id="hooks">
    <thead><tr><th>point</th><th>policy</th><th>chain (run order)</th><th>failed</th><th>vetoed</th></tr></thead>
    <tbody>${points.map(([point, p]) => html`<tr data-point=${point}>
      <td data-label="point"><code>${point}</code></td>
      <td data-label="policy">${p.policy}</td>
      <td data-label="chain">${p.hooks.map((h) => `${h.module} (priority ${h.priority}, ${h.timeout_ms} ms)`).join(" → ")}</td>
      <td data-label="failed" class="num">${count(system.hooks.failed[point] || 0)}</td>
      <td data-label="vetoed" class="num">${count(system.hooks.vetoed[point] || 0)}</td></tr>`)}</tbody>
  </table>
  <p class="muted">observer bridge: ${count(system.hooks.observer_bridge.queued)} queued, ${count(system.hooks.observer_bridge.dropped)} dropped</p>`;
}

function sourcesPanel(health) {
  const sources = Object.entries((health && health.sources) || {});
  if (!sources.length) return html`<p class="muted">No sources besides the ones modules publish to.</p>`;
  return html`<div class="source-list">${sources.map(([name, s]) => html`<article class="panel source" data-source=${name}>
    <h3>${name} ${badge(s.ok ? "ok" : "failed")}</h3>
    ${s.error ? html`<p class="error">${s.error}</p>` : nothing}
    ${s.head !== undefined ? html`<dl class="facts">
      <div><dt>head</dt><dd>${s.head ?? "–"}</dd></div>
      <div><dt>position</dt><dd>${s.position ?? "–"}</dd></div>
      ${(s.streams || []).map((st) => html`<div><dt>behind at ${st.confirmations} conf.</dt><dd>${st.behind}</dd></div>`)}
      ${s.waiting ? html`<div><dt>waiting</dt><dd>${s.waiting}</dd></div>` : nothing}
    </dl>
    <table class="cards"><thead><tr><th>endpoint</th><th>head</th><th>requests</th><th>errors</th><th>fallback hits</th><th>last error</th></tr></thead>
      <tbody>${(s.endpoints || []).map((e) => html`<tr>
        <td data-label="endpoint">${e.endpoint}</td><td data-label="head" class="num">${e.head ?? "–"}</td>
        <td data-label="requests" class="num">${count(e.requests)}</td><td data-label="errors" class="num">${count(e.errors)}</td>
        <td data-label="fallback hits" class="num">${count(e.fallback_hits)}</td><td data-label="last error" class="error">${e.last_error || ""}</td></tr>`)}</tbody></table>`
      : nothing}
  </article>`)}</div>`;
}

function outboxPanel(modules, refresh) {
  const backlog = modules.filter((m) => m.outbox_backlog || m.dead_letters || m.outbox_last_error);
  return html`
    ${backlog.length ? html`<table class="cards" id="outbox">
      <thead><tr><th>module</th><th>backlog</th><th>attempts</th><th>next retry</th><th>last error</th><th>dead letters</th></tr></thead>
      <tbody>${backlog.map((m) => html`<tr data-module=${m.name}>
        <td data-label="module">${m.name}</td><td data-label="backlog" class="num">${count(m.outbox_backlog)}</td>
        <td data-label="attempts" class="num">${m.outbox_attempts}</td><td data-label="next retry">${dateTime(m.outbox_next_retry_ms)}</td>
        <td data-label="last error" class="error">${m.outbox_last_error}</td><td data-label="dead letters" class="num">${m.dead_letters}</td></tr>`)}</tbody>
    </table>` : html`<p class="muted">Nothing waiting to be delivered.</p>`}
    <h3>Dead letters</h3>
    ${system.deadError ? html`<p class="action-error" role="alert">${system.deadError}</p>` : nothing}
    ${system.deadAction ? html`<p class="action-done" role="status">${system.deadAction}</p>` : nothing}
    ${system.dead && system.dead.length ? html`<table class="cards" id="dead-letters">
      <thead><tr><th>id</th><th>module</th><th>transport</th><th>attempts</th><th>died</th><th>last error</th><th></th></tr></thead>
      <tbody>${system.dead.map((d) => html`<tr data-dead=${d.id}>
        <td data-label="id">${d.id}</td><td data-label="module">${d.module}</td><td data-label="transport">${d.transport || d.kind}</td>
        <td data-label="attempts" class="num">${d.attempts}</td><td data-label="died">${dateTime(d.dead_ms)}</td>
        <td data-label="last error" class="error">${d.last_error}</td>
        <td data-label="actions"><div class="actions">${system.dropping === d.id
          ? html`<span class="confirm">Drop dead letter ${d.id} for good?</span>
              <button class="danger" @click=${() => { system.dropping = null; deadAction("drop", [d.id], refresh); }}>Confirm</button>
              <button @click=${() => { system.dropping = null; refresh(); }}>Cancel</button>`
          : html`<button @click=${() => deadAction("retry", [d.id], refresh)}>Retry</button>
              <button @click=${() => { system.dropping = d.id; refresh(); }}>Drop</button>`}</div></td></tr>`)}</tbody>
    </table>` : system.dead ? html`<p class="muted">No dead letters.</p>` : nothing}`;
}

export function systemView(live, refresh) {
  return html`
    <section class="panel"><h2>Hooks</h2>${hooksPanel()}</section>
    <section class="panel"><h2>Sources</h2>${sourcesPanel(live.health)}</section>
    <section class="panel"><h2>Approvals</h2>${approvalsPanel(refresh)}</section>
    <section class="panel"><h2>Outbox</h2>${outboxPanel(live.modules, refresh)}</section>`;
}
