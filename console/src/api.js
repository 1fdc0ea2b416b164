// The control-plane API as the console uses it: the bearer token (session storage
// only), JSON requests, and the live stream (Server-Sent Events over fetch, so the
// token goes in a header as for every other request, never in a URL).

const TOKEN_KEY = "cove-token";

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

export function setToken(value) { sessionStorage.setItem(TOKEN_KEY, value.trim()); }

// `cove run` prints the console URL with the token in the fragment (#token=...):
// keep it for this tab only and drop it from the address bar and history.
export function takeTokenFromFragment() {
  const match = location.hash.match(/^#token=([^&/]+)$/);
  if (!match) return;
  setToken(decodeURIComponent(match[1]));
  window.history.replaceState(null, "", location.pathname + location.search + "#/");
}

function headers(extra = {}) {
  return token() ? { ...extra, Authorization: "Bearer " + token() } : extra;
}

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export async function api(path, { method = "GET", body } = {}) {
  const options = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await fetch(path, options);
  let answer = null;
  try { answer = await response.json(); } catch { answer = { error: response.statusText }; }
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? " (enter the admin token above)" : "";
    throw new ApiError(response.status, (answer.error || response.statusText) + hint);
  }
  return answer;
}

export const path = (...parts) => parts.map(encodeURIComponent).join("/");

// Reads GET /v1/stream until it ends or fails, then connects again after a pause.
export function connectStream(handlers) {
  let stopped = false;
  let retry = 500;
  let controller = null;
  async function once() {
    controller = new AbortController();
    const response = await fetch("/v1/stream", { headers: headers(), signal: controller.signal });
    if (!response.ok) {
      let reason = response.statusText;
      try { reason = (await response.json()).error || reason; } catch { /* not JSON */ }
      throw new ApiError(response.status, reason);
    }
    handlers.onOpen?.();
    retry = 500;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }
  function dispatch(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;  // a ping (comment) or an empty block
    handlers.onEvent(event, JSON.parse(data.join("\n")));
  }
  async function loop() {
    while (!stopped) {
      try { await once(); } catch (error) {
        if (error.name !== "AbortError") handlers.onError(error);
      }
      if (stopped) return;
      await new Promise((resolve) => setTimeout(resolve, retry));
      retry = Math.min(retry * 2, 10_000);
    }
  }
  loop();
  return { stop() { stopped = true; controller?.abort(); } };
}
