// SPDX-License-Identifier: MIT
// The ERC-20 token of cove's chain examples and tests: OpenZeppelin's ERC20
// with the whole supply minted to the deployer.
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract CoveTestToken is ERC20 {
    constructor() ERC20("Cove Test Token", "COVE") {
        _mint(msg.sender, 1_000_000 * 10 ** decimals());
    }
}
