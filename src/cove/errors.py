"""The exception tree of cove.

Every error a person can meet names what is wrong and where::

    CoveError
    ├── ConfigError (ValueError)        a manifest or engine config is invalid
    │   ├── ManifestError               ... in a module's cove.toml
    │   └── FixtureError                ... in a `cove run --mock` fixture file
    ├── ModuleError                     something about one module (has .module)
    │   ├── ModuleLoadError             the module cannot be loaded
    │   │   ├── HashMismatchError       the component is not the pinned one
    │   │   ├── ComponentFetchError     no source gave the pinned component (each failure named)
    │   │   ├── PublicationError        an on-chain registry publication cannot be applied
    │   │   ├── ContractError           imports an incompatible or undeclared interface
    │   │   └── CapabilityError         a required capability is not granted
    │   └── ModuleFailedError           one event (or init) failed; effects rolled back
    │       ├── LimitExceededError      fuel, memory, deadline, state or call budget
    │       ├── CallCancelledError      the engine stopped and cut the call short; handled again at start
    │       ├── MigrationError          a state migration failed; its writes rolled back
    │       └── AgentUnavailableError   the A2A hub's agent could not be reached or refused the call
    ├── HostCallError                   a host call failed (carries a WIT error kind)
    ├── ToolError                       a tool call was refused or failed (names the tool)
    ├── FilePathError                   a path of the module file view names nothing, or is malformed
    ├── StoreError                      the durable store failed
    │   └── FencedError                 a commit's lease epoch is stale: another engine took the module
    ├── SourceError                     an event source failed
    │   ├── DeliveryError               a transport could not deliver a message
    │   └── ChainRpcError               a chain node answered with an error or an unusable answer
    │       └── UnreadableAnswer        ... an answer that was not JSON at all
    ├── ControlError                    the control plane or metrics listener cannot serve
    ├── HookBlockedError                a hook vetoed an action, or failed under fail-closed
    ├── KeystoreError                   a signing key cannot be created, read or unlocked
    ├── NostrError                      a Nostr key, event or NIP-44 payload is bad
    ├── BuildError                      `cove build` cannot build a module
    ├── FetchError                      a pinned component is in no store and no source gave it
    ├── RegistryError                   `cove module push/pull` failed against an OCI registry
    └── ScaffoldError                   `cove new` cannot create a module

Signals between two parts of cove, caught where they are raised for (never
shown to a person as they are; the same rule holds: every exception class
lives here)::

    ApiError                            a control-plane route answers with a status and message
    SubscribeRefused                    a node refused ``eth_subscribe`` (the source polls)
    EndpointsBehind                     every chain endpoint is behind the walk (it waits)
    EndpointFailure                     one chain endpoint failed (the backend tries the next)
    ArenaFull                           the fast path's value arena is full (it grows)
    SourceFailure                       one source of a component failed (the resolver tries the next)
    MalformedPublication                a registry log is not a ModulePublished (the follower skips it)
"""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal[
    "unsupported",
    "denied",
    "invalid-input",
    "not-found",
    "limit-exceeded",
    "timeout",
    "unavailable",
    "internal",
]

LimitKind = Literal["fuel", "memory", "deadline", "state", "host-calls", "budget"]


class CoveError(Exception):
    """Root of every error cove raises on purpose."""


class ConfigError(CoveError, ValueError):
    """A configuration file is invalid; the message names the file and the key."""


class ManifestError(ConfigError):
    """A module manifest (``cove.toml``) is invalid."""


class ModuleError(CoveError):
    """An error that belongs to one module."""

    def __init__(self, module: str, message: str) -> None:
        super().__init__(f"module {module!r}: {message}")
        self.module = module
        self.reason = message


class ModuleLoadError(ModuleError):
    """The module cannot be loaded; nothing of it runs."""


class HashMismatchError(ModuleLoadError):
    """The component's sha256 differs from the manifest's pin."""


class ComponentFetchError(ModuleLoadError):
    """The pinned component is not in the content store and none of its sources gave it."""


class PublicationError(ModuleLoadError):
    """A registry publication was refused (not fetched, not the pinned module); the
    module keeps running the version it had."""


class PublicationUnavailable(PublicationError):
    """A registry publication's module could not be fetched now (its server down or
    failing): tried again for ``[registry] fetch_patience`` before it is refused."""


class ContractError(ModuleLoadError):
    """The component's imports or exports do not fit this engine's contract."""


class CapabilityError(ModuleLoadError):
    """A capability the module requires was not granted by the operator."""


class ModuleFailedError(ModuleError):
    """Handling one event (or init) failed; all of its effects were rolled back."""


class LimitExceededError(ModuleFailedError):
    """The module hit one of its hard limits and was stopped."""

    def __init__(self, module: str, limit: LimitKind, message: str) -> None:
        super().__init__(module, f"{limit} limit exceeded: {message}")
        self.limit = limit


class CallCancelledError(ModuleFailedError):
    """The engine is stopping and cut the call short: nothing of it is kept, and the
    event stays in the journal, handled again when the engine next starts."""

    def __init__(self, module: str, what: str) -> None:
        super().__init__(
            module, f"{what} cancelled: the engine is stopping (handled again at its next start)"
        )


class MigrationError(ModuleFailedError):
    """A state migration between two versions failed (error, trap or limit): none of its
    writes were kept, and the state stays recorded with ``from_version``."""

    def __init__(self, module: str, from_version: str, to_version: str, reason: str) -> None:
        super().__init__(
            module,
            f"migrating the state of {module!r} from {from_version} to {to_version} failed "
            f"(nothing of it kept): {reason}",
        )
        self.from_version = from_version
        self.to_version = to_version


class AgentUnavailableError(ModuleFailedError):
    """The A2A hub plugin could not reach its agent, or the agent answered with an error.

    The event fails (nothing sent) and is retried under the restart policy:
    the message waits for the agent instead of being answered with an excuse.
    """


class ModuleReentryError(ModuleFailedError):
    """A call into a module's instance from inside one of its own host calls.

    Refused: one instance runs one call at a time, and the running call goes on.
    """


class HostCallError(CoveError):
    """A host call failed; ``kind`` is the WIT ``error-kind`` the guest sees."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.message = message


class ToolError(CoveError):
    """A tool call was refused (unknown tool, bad arguments, module not running)
    or failed (the tool's own error, or a limit); ``kind`` is a WIT error kind."""

    def __init__(self, tool: str, kind: ErrorKind, message: str) -> None:
        super().__init__(f"tool {tool!r}: {message}")
        self.tool = tool
        self.kind: ErrorKind = kind
        self.message = message


class FilePathError(CoveError):
    """A path of the module file view (``/v1/fs``, ``cove://``, ``cove fs``) is malformed
    (``missing`` False) or names no module, directory or file (``missing`` True)."""

    def __init__(self, path: str, message: str, *, missing: bool = True) -> None:
        super().__init__(f"{path!r}: {message}")
        self.path = path
        self.missing = missing


class StoreError(CoveError):
    """The durable store failed (disk, corruption, closed)."""


class FencedError(StoreError):
    """A module's commit carried a lease epoch that is no longer current: another engine
    took the module over (this one paused or lost its lease), so the commit is refused."""

    def __init__(self, module: str, message: str) -> None:
        super().__init__(f"module {module!r}: {message}")
        self.module = module


class SourceError(CoveError):
    """An event source failed to produce or acknowledge events."""


class DeliveryError(SourceError):
    """A transport could not deliver a message; the outbox retries it later."""


class ChainRpcError(SourceError):
    """A chain node answered a source's read with a JSON-RPC error or an unusable answer.

    The message names the method and what was wrong; the source shows it in
    its health and retries, so a node answering garbage never stops the engine.
    """

    def __init__(self, method: str, error: object) -> None:
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error


class ControlError(CoveError):
    """The control plane (API, metrics listener) cannot start or serve."""


class HookBlockedError(CoveError):
    """A hook vetoed the action, or failed or timed out at a fail-closed point."""

    def __init__(self, point: str, module: str, reason: str, *, vetoed: bool = False) -> None:
        super().__init__(f"{point}: blocked by hook of module {module!r}: {reason}")
        self.point = point
        self.module = module
        self.reason = reason
        self.vetoed = vetoed


class KeystoreError(CoveError):
    """A signing key cannot be created, imported, read or unlocked."""


class NostrError(CoveError):
    """A Nostr key, event or NIP-44 payload is malformed, forged or tampered with."""


class BuildError(CoveError):
    """Building a module failed; the message says what to fix or install."""


class FetchError(CoveError):
    """A pinned component is not in the content store and no source gave it.

    The message names the pin and every source with its failure; ``mismatch``
    is set when a source gave bytes other than the pinned ones.
    """

    def __init__(self, message: str, mismatch: bool = False) -> None:
        super().__init__(message)
        self.mismatch = mismatch


class RegistryError(CoveError):
    """``cove module push`` or ``pull`` failed against an OCI registry."""


class ScaffoldError(CoveError):
    """``cove new`` cannot create the module; the message says what to change."""


class FixtureError(ConfigError):
    """A fixture file is invalid; the message names the file and the key."""


class UnreadableAnswer(ChainRpcError):
    """The answer was not JSON at all (already counted against the endpoint)."""


# signals between parts of cove ------------------------------------------------


class ApiError(Exception):
    """Raised by a route to answer with ``status`` and a message that says what to change."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class SubscribeRefused(Exception):
    """The node answered ``eth_subscribe`` with an error (or not at all as JSON-RPC)."""


class EndpointsBehind(Exception):
    """Every endpoint that answered is behind the walked position: the walk waits.

    Not an error of the node, and never evidence of a reorg by itself: a
    replica that is a few blocks behind has not got there yet, and a
    primary's head dips when a load balancer asks a backend that lags.
    ``heads`` holds the head each of them answered, by endpoint index.
    """

    def __init__(self, message: str, heads: dict[int, int]) -> None:
        super().__init__(message)
        self.heads = heads


class EndpointFailure(Exception):
    """This endpoint did not answer usefully; the next one (or a retry) may."""


class ArenaFull(Exception):
    """The arena is full; the encoder starts over in a bigger one."""


class SourceFailure(Exception):
    """One source did not give the pinned component; the resolver tries the next.

    ``mismatch`` is set when it gave bytes, but not the pinned ones.
    """

    def __init__(self, message: str, mismatch: bool = False) -> None:
        super().__init__(message)
        self.mismatch = mismatch


class MalformedPublication(ValueError):
    """A log at the registry address that is not a well-formed ``ModulePublished``."""
