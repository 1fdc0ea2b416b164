// The counter example as a JavaScript guest: the WIT interfaces are ES module
// imports, init/handle are exports; a host error arrives as a thrown error
// whose `payload` is the WIT host-error record ({kind, message}).
import { get, setMany } from "cove:host/store@0.1.0";
import { emit } from "cove:host/events@0.1.0";
import { log } from "cove:host/logging@0.1.0";
import { get as configGet } from "cove:host/config@0.1.0";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function readJson(key, fallback) {
  try {
    return JSON.parse(decoder.decode(get(key)));
  } catch (error) {
    if (error.payload && error.payload.kind === "not-found") return fallback;
    throw error;
  }
}

export function init() {}

export function handle(meta, event) {
  if (event.tag !== "custom") return;
  const reading = JSON.parse(event.val.payload || "null") || {};
  const count = readJson("count", 0) + 1;
  const total = readJson("sum", 0) + Number(reading.value || 0);
  setMany([
    ["count", encoder.encode(JSON.stringify(count))],
    ["sum", encoder.encode(JSON.stringify(total))],
  ]);
  const threshold = Number(configGet("threshold")?.val ?? 10);
  if (count % threshold === 0) {
    emit("counter.threshold", JSON.stringify({ count, sum: total, event: meta.id }));
    log("info", "threshold reached", [["count", String(count)]]);
  }
}
