// Compiles one example contract with solc-js (npm `solc`, pinned in package.json)
// into <Name>.json beside its source: the ABI and bytecode the demo, the tests and
// the benches deploy, committed so they need no compiler. Each example's
// compile.js calls compileExample(__dirname, "<Name>") (`--check`: exit 1 if the
// committed artifact differs from a fresh compile).
"use strict";

const fs = require("fs");
const path = require("path");
const solc = require("solc");

const ROOT = path.resolve(__dirname, "..");
// Fixed settings: the same source always gives the same bytes.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
};

function findImport(name) {
  const file = path.join(ROOT, "node_modules", name);
  if (!fs.existsSync(file)) {
    return { error: `${name} not found under node_modules: run \`make setup\`` };
  }
  return { contents: fs.readFileSync(file, "utf8") };
}

function compile(dir, name) {
  const source = `${name}.sol`;
  const input = {
    language: "Solidity",
    sources: { [source]: { content: fs.readFileSync(path.join(dir, source), "utf8") } },
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  }
  const contract = output.contracts[source][name];
  const artifact = {
    contractName: name,
    compiler: `solc-js ${solc.version()}`,
    settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
  };
  return `${JSON.stringify(artifact, null, 2)}\n`;
}

function compileExample(dir, name) {
  const artifact = path.join(dir, `${name}.json`);
  const fresh = compile(dir, name);
  if (process.argv.includes("--check")) {
    const committed = fs.existsSync(artifact) ? fs.readFileSync(artifact, "utf8") : "";
    if (committed !== fresh) {
      const script = path.relative(ROOT, path.join(dir, "compile.js"));
      console.error(`${artifact} is stale: run \`node ${script}\``);
      process.exit(1);
    }
    console.log(`${name}.json matches a fresh compile`);
  } else {
    fs.writeFileSync(artifact, fresh);
    console.log(`wrote ${path.relative(ROOT, artifact)}`);
  }
}

module.exports = { compileExample };
