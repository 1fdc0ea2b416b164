// Compiles CoveModuleRegistry.sol with solc-js (npm `solc`, pinned in package.json)
// and writes CoveModuleRegistry.json: the ABI and bytecode that the registry tests
// and bench/registry_upgrade.py deploy, committed so they need no compiler.
//
//   node examples/registry/compile.js           write CoveModuleRegistry.json
//   node examples/registry/compile.js --check   exit 1 if it differs from a fresh compile
"use strict";

const fs = require("fs");
const path = require("path");
const solc = require("solc");

const HERE = __dirname;
const ROOT = path.resolve(HERE, "..", "..");
const SOURCE = "CoveModuleRegistry.sol";
const ARTIFACT = path.join(HERE, "CoveModuleRegistry.json");
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

function compile() {
  const input = {
    language: "Solidity",
    sources: { [SOURCE]: { content: fs.readFileSync(path.join(HERE, SOURCE), "utf8") } },
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  }
  const contract = output.contracts[SOURCE].CoveModuleRegistry;
  const artifact = {
    contractName: "CoveModuleRegistry",
    compiler: `solc-js ${solc.version()}`,
    settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
  };
  return `${JSON.stringify(artifact, null, 2)}\n`;
}

const fresh = compile();
if (process.argv.includes("--check")) {
  const committed = fs.existsSync(ARTIFACT) ? fs.readFileSync(ARTIFACT, "utf8") : "";
  if (committed !== fresh) {
    console.error(`${ARTIFACT} is stale: run \`node examples/registry/compile.js\``);
    process.exit(1);
  }
  console.log("CoveModuleRegistry.json matches a fresh compile");
} else {
  fs.writeFileSync(ARTIFACT, fresh);
  console.log(`wrote ${path.relative(ROOT, ARTIFACT)}`);
}
