// A2UI documents: a module's UI as JSON (docs/a2ui.md), drawn with lit templates only.
// Nothing from a module becomes HTML: text goes in as text, markdown is parsed into
// tokens (marked's lexer) that are drawn as elements (raw HTML in it shows as text),
// and links keep only http, https and mailto targets.
import { html, nothing } from "lit";
import { ref } from "lit/directives/ref.js";
import { Lexer } from "marked";
import { api, path } from "./api.js";
import { drawSeries } from "./charts.js";

export const isUiDocument = (value) =>
  value !== null && typeof value === "object" && value.a2ui === 1 && Array.isArray(value.components);

const SAFE_LINK = /^(https?:|mailto:)/i;
const submits = new Map();  // "<module>:<form id>" -> {busy, error, done}

function inline(tokens = []) {
  return tokens.map((t) => {
    switch (t.type) {
      case "strong": return html`<strong>${inline(t.tokens)}</strong>`;
      case "em": return html`<em>${inline(t.tokens)}</em>`;
      case "codespan": return html`<code>${t.text}</code>`;
      case "del": return html`<del>${inline(t.tokens)}</del>`;
      case "br": return html`<br>`;
      case "link":
        return SAFE_LINK.test(t.href)
          ? html`<a href=${t.href} rel="noopener noreferrer" target="_blank">${inline(t.tokens)}</a>`
          : html`${inline(t.tokens)}`;
      case "text": return t.tokens ? inline(t.tokens) : t.text;
      case "escape": return t.text;
      default: return t.raw;  // html, images and anything else: shown as the text it was
    }
  });
}

function block(t) {
  switch (t.type) {
    case "heading": return html`<p class="md-heading md-h${t.depth}"><strong>${inline(t.tokens)}</strong></p>`;
    case "paragraph": return html`<p>${inline(t.tokens)}</p>`;
    case "list": {
      const items = t.items.map((item) => html`<li>${item.tokens.map(block)}</li>`);
      return t.ordered ? html`<ol>${items}</ol>` : html`<ul>${items}</ul>`;
    }
    case "code": return html`<pre><code>${t.text}</code></pre>`;
    case "blockquote": return html`<blockquote>${t.tokens.map(block)}</blockquote>`;
    case "hr": return html`<hr>`;
    case "space": return nothing;
    case "text": return html`<p>${t.tokens ? inline(t.tokens) : t.text}</p>`;
    default: return html`<p>${t.raw}</p>`;
  }
}

export const markdown = (text) => new Lexer().lex(String(text)).map(block);

const str = (v) => (v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

function formValues(form) {
  const values = {};
  for (const input of form.querySelectorAll("[data-field]")) {
    const name = input.dataset.field;
    if (input.type === "checkbox") values[name] = input.checked;
    else if (input.type === "number") values[name] = input.value === "" ? null : Number(input.value);
    else values[name] = input.value;
  }
  return values;
}

async function submit(module, component, button, form, refresh) {
  const key = module + ":" + component.id;
  const entry = { busy: true, error: "", done: "" };
  submits.set(key, entry);
  refresh();
  try {
    const body = { form: component.id, button, values: formValues(form) };
    const answer = await api(`/v1/modules/${path(module)}/ui-submit`, { method: "POST", body });
    entry.done = "sent as event " + answer.id;
  } catch (error) {
    entry.error = error.message;
  }
  entry.busy = false;
  refresh();
}

function input(field) {
  const name = str(field.name);
  const label = str(field.label || field.name);
  switch (field.input) {
    case "checkbox":
      return html`<label class="check"><input type="checkbox" data-field=${name} ?checked=${field.value === true}> ${label}</label>`;
    case "number":
      return html`<label>${label} <input type="number" step="any" data-field=${name} .value=${str(field.value)}></label>`;
    case "select":
      return html`<label>${label} <select data-field=${name}>
        ${(field.options || []).map((o) => html`<option value=${str(o)} ?selected=${str(o) === str(field.value)}>${str(o)}</option>`)}
      </select></label>`;
    case "textarea":
      return html`<label>${label} <textarea data-field=${name} rows="3" .value=${str(field.value)}></textarea></label>`;
    default:
      return html`<label>${label} <input type="text" data-field=${name} .value=${str(field.value)}></label>`;
  }
}

function component(c, module, refresh) {
  switch (c.type) {
    case "text": return html`<p class="ui-text">${str(c.text)}</p>`;
    case "markdown": return html`<div class="ui-markdown">${markdown(c.text)}</div>`;
    case "kv":
      return html`<dl class="facts ui-kv">${(c.items || []).map((item) =>
        html`<div><dt>${str(item.label)}</dt><dd>${str(item.value)}</dd></div>`)}</dl>`;
    case "list": return html`<ul class="ui-list">${(c.items || []).map((i) => html`<li>${str(i)}</li>`)}</ul>`;
    case "table":
      return html`<table class="cards ui-table">
        <thead><tr>${(c.columns || []).map((h) => html`<th>${str(h)}</th>`)}</tr></thead>
        <tbody>${(c.rows || []).map((row) => html`<tr>${(row || []).map((cell, i) =>
          html`<td data-label=${str((c.columns || [])[i])}>${str(cell)}</td>`)}</tr>`)}</tbody>
      </table>`;
    case "chart":
      return html`<div class="chart ui-chart" ${ref((box) => drawSeries(box, c))}></div>`;
    case "form": {
      const entry = submits.get(module + ":" + c.id);
      return html`<form class="ui-form" data-form=${str(c.id)} @submit=${(e) => e.preventDefault()}>
        ${c.title ? html`<p><strong>${str(c.title)}</strong></p>` : nothing}
        ${(c.fields || []).map(input)}
        <div class="actions">${(c.buttons || [{ id: "submit", label: "Submit" }]).map((b) => html`<button type="button"
          data-button=${str(b.id)} ?disabled=${entry && entry.busy}
          @click=${(e) => submit(module, c, str(b.id), e.target.form, refresh)}>${str(b.label || b.id)}</button>`)}</div>
        ${entry && entry.error ? html`<p class="action-error" role="alert">${entry.error}</p>` : nothing}
        ${entry && entry.done ? html`<p class="action-done" role="status">${entry.done}</p>` : nothing}
      </form>`;
    }
    default: return html`<p class="muted">(unknown component ${str(c.type)})</p>`;
  }
}

export function uiDocument(doc, module, refresh) {
  return html`<div class="a2ui" data-a2ui=${module}>
    ${doc.title ? html`<h3>${str(doc.title)}</h3>` : nothing}
    ${doc.components.map((c) => component(c, module, refresh))}
  </div>`;
}
