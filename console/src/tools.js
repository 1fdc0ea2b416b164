// Tools: every loaded module's tools, a form made from each tool's JSON Schema, the call
// and its result (or its error, next to the button).
import { html, nothing } from "lit";
import { api, path } from "./api.js";
import { isUiDocument, uiDocument } from "./a2ui.js";

export const toolsState = { tools: null, error: "", calls: new Map() };

export async function loadTools(refresh) {
  try {
    toolsState.tools = (await api("/v1/tools")).tools;
    toolsState.error = "";
  } catch (error) {
    toolsState.error = error.message;
  }
  refresh();
}

function field(name, schema, required) {
  const label = html`${name}${required ? html`<span class="required" title="required">*</span>` : nothing}`;
  const hint = schema.description ? html`<small>${schema.description}</small>` : nothing;
  if (Array.isArray(schema.enum)) {
    return html`<label>${label} <select name=${name} data-kind="enum">
      ${required ? nothing : html`<option value="">–</option>`}
      ${schema.enum.map((v) => html`<option value=${JSON.stringify(v)}>${String(v)}</option>`)}
    </select>${hint}</label>`;
  }
  switch (schema.type) {
    case "boolean":
      return html`<label class="check"><input type="checkbox" name=${name} data-kind="boolean"> ${label}${hint}</label>`;
    case "integer":
    case "number":
      return html`<label>${label} <input type="number" name=${name} data-kind=${schema.type}
        step=${schema.type === "integer" ? "1" : "any"} ?required=${required}>${hint}</label>`;
    case "string":
      return html`<label>${label} <input type="text" name=${name} data-kind="string" ?required=${required}>${hint}</label>`;
    default:
      return html`<label>${label} <textarea name=${name} data-kind="json" rows="2"
        placeholder="JSON" ?required=${required}></textarea>${hint}</label>`;
  }
}

// The form's values as the tool's arguments; a JSON field that does not parse names itself.
export function argumentsOf(form) {
  const out = {};
  for (const input of form.querySelectorAll("[data-kind]")) {
    const kind = input.dataset.kind;
    if (kind === "boolean") { out[input.name] = input.checked; continue; }
    if (input.value === "") continue;
    if (kind === "integer" || kind === "number") out[input.name] = Number(input.value);
    else if (kind === "string") out[input.name] = input.value;
    else {
      try { out[input.name] = JSON.parse(input.value); } catch {
        throw new Error(`${input.name}: not valid JSON`);
      }
    }
  }
  return out;
}

async function call(tool, form, refresh) {
  const entry = { busy: true, error: "", result: undefined };
  toolsState.calls.set(tool.name, entry);
  refresh();
  try {
    const body = await api(`/v1/tools/${path(tool.name)}/call`, { method: "POST", body: { arguments: argumentsOf(form) } });
    entry.result = body.result;
  } catch (error) {
    entry.error = error.message;
  }
  entry.busy = false;
  refresh();
}

export function toolCard(tool, refresh) {
  const schema = tool.input_schema || {};
  const required = new Set(schema.required || []);
  const entry = toolsState.calls.get(tool.name);
  return html`<article class="panel tool" data-tool=${tool.name}>
    <h3><code>${tool.name}</code></h3>
    <p>${tool.description}</p>
    <form @submit=${(e) => { e.preventDefault(); call(tool, e.target, refresh); }}>
      ${Object.entries(schema.properties || {}).map(([name, s]) => field(name, s, required.has(name)))}
      <button type="submit" ?disabled=${entry && entry.busy}>Call</button>
      ${entry && entry.error ? html`<p class="action-error" role="alert">${entry.error}</p>` : nothing}
    </form>
    ${entry && entry.result !== undefined
      ? html`<div class="tool-result">${isUiDocument(entry.result)
          ? uiDocument(entry.result, tool.module, refresh)
          : html`<pre>${JSON.stringify(entry.result, null, 2)}</pre>`}</div>`
      : nothing}
  </article>`;
}

export function toolsView(refresh, module = null) {
  if (toolsState.error) return html`<p class="action-error" role="alert">${toolsState.error}</p>`;
  if (toolsState.tools === null) return html`<p class="muted">loading tools…</p>`;
  const tools = toolsState.tools.filter((t) => module === null || t.module === module);
  if (!tools.length) return html`<p class="muted">${module ? "This module serves no tools." : "No loaded module serves tools."}</p>`;
  return html`<div class="tools">${tools.map((t) => toolCard(t, refresh))}</div>`;
}
