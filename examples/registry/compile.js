// Compiles CoveModuleRegistry.sol into CoveModuleRegistry.json (see ../solidity.js),
// the registry the tests and bench/registry_upgrade.py deploy.
//   node examples/registry/compile.js           write CoveModuleRegistry.json
//   node examples/registry/compile.js --check   exit 1 if it differs from a fresh compile
"use strict";

require("../solidity.js").compileExample(__dirname, "CoveModuleRegistry");
