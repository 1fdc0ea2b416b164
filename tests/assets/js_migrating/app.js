// Test guest: a JavaScript module that migrates its state. Its migrate moves each
// `item:K` to `entry:K` as {n, from}; with config migration = "fail" it then throws.
import { getMany, setMany, delete as remove, listKeys } from "cove:host/store@0.1.0";
import { get as configGet } from "cove:host/config@0.1.0";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const json = (value) => encoder.encode(JSON.stringify(value));

export function init() {}

export function handle(meta, event) {
  setMany([[`by:${meta.id}`, json(configGet("tag")?.val ?? null)]]);
}

export const migrator = {
  migrate(fromVersion) {
    const keys = listKeys("item:");
    const values = getMany(keys);
    setMany(
      keys.map((key, i) => [
        `entry:${key.slice("item:".length)}`,
        json({ n: JSON.parse(decoder.decode(values[i])), from: fromVersion }),
      ]),
    );
    keys.forEach((key) => remove(key));
    if (configGet("migration")?.val === "fail") {
      throw new Error(`migration from ${fromVersion} fails on purpose`);
    }
  },
};
