// Compiles CoveTestToken.sol into CoveTestToken.json (see ../solidity.js).
//   node examples/erc20/compile.js           write CoveTestToken.json
//   node examples/erc20/compile.js --check   exit 1 if it differs from a fresh compile
"use strict";

require("../solidity.js").compileExample(__dirname, "CoveTestToken");
