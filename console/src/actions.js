// Module actions (revive, revive skipping the failed event, restart, unload): each asks
// for a confirmation in place and shows its error right under its buttons.
import { html, nothing } from "lit";
import { api, path } from "./api.js";

const pending = new Map();  // "<module>:<where>" -> {confirm, busy, error, done}

const ACTIONS = {
  revive: { label: "Revive", ask: "Revive {m}?", method: "POST", url: (m) => `/v1/modules/${path(m)}/revive` },
  skip: {
    label: "Skip event & revive",
    ask: "Skip event {e} (it will never be handled) and revive {m}?",
    method: "POST",
    url: (m) => `/v1/modules/${path(m)}/revive?skip_event=true`,
  },
  restart: { label: "Restart", ask: "Restart {m} (unload, load again from its directory)?", method: "POST", url: (m) => `/v1/modules/${path(m)}/restart` },
  unload: { label: "Unload", ask: "Unload {m}? Its state stays in the store.", method: "DELETE", url: (m) => `/v1/modules/${path(m)}` },
};

export function available(module) {
  const out = [];
  if (module.state === "dead") {
    out.push("revive");
    if (module.failed_event_id) out.push("skip");
  }
  out.push("restart", "unload");
  return out;
}

async function run(key, action, module, refresh) {
  const entry = pending.get(key);
  entry.busy = true;
  entry.error = "";
  refresh();
  try {
    await api(ACTIONS[action].url(module.name), { method: ACTIONS[action].method });
    entry.done = ACTIONS[action].label + " done";
    entry.confirm = null;
  } catch (error) {
    entry.error = ACTIONS[action].label + " failed: " + error.message;
  }
  entry.busy = false;
  refresh();
}

// The buttons of one module, in one place of the page (`where`: "row" or "page").
export function actionBar(module, where, refresh) {
  const key = module.name + ":" + where;
  if (!pending.has(key)) pending.set(key, { confirm: null, busy: false, error: "", done: "" });
  const entry = pending.get(key);
  const ask = (action) => () => { entry.confirm = action; entry.error = ""; entry.done = ""; refresh(); };
  const cancel = () => { entry.confirm = null; refresh(); };
  const confirmText = entry.confirm
    ? ACTIONS[entry.confirm].ask.replace("{m}", module.name).replace("{e}", module.failed_event_id || "")
    : "";
  return html`<div class="actions" data-actions=${module.name}>
    ${entry.confirm
      ? html`<span class="confirm">${confirmText}</span>
          <button class="danger" data-confirm=${entry.confirm} ?disabled=${entry.busy}
            @click=${() => run(key, entry.confirm, module, refresh)}>Confirm</button>
          <button @click=${cancel} ?disabled=${entry.busy}>Cancel</button>`
      : available(module).map((action) => html`<button data-action=${action}
          @click=${ask(action)}>${ACTIONS[action].label}</button>`)}
    ${entry.error ? html`<p class="action-error" role="alert">${entry.error}</p>` : nothing}
    ${entry.done && !entry.error ? html`<p class="action-done" role="status">${entry.done}</p>` : nothing}
  </div>`;
}
