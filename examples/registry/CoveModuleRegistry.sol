// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A registry of cove modules: a publisher announces that `name` at `version`
/// is the component pinned by `sha256`, fetched from `uri`. Anyone may publish;
/// an engine trusts only the publishers on its allowlist ([registry] publishers).
contract CoveModuleRegistry {
    event ModulePublished(
        address indexed publisher,
        string name,
        string version,
        string uri,
        bytes32 sha256
    );

    function publish(
        string calldata name,
        string calldata version,
        string calldata uri,
        bytes32 sha256
    ) external {
        emit ModulePublished(msg.sender, name, version, uri, sha256);
    }
}
