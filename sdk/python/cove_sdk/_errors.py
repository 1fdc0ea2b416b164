"""SDK exceptions; kept apart from the bindings so tests can import them anywhere."""


class HostError(Exception):
    """A host call failed; catch it to decide, or let it fail the event (rolled back, retried).

    Attributes:
        kind: the WIT ``error-kind``, one of:

            - ``unsupported``: the capability is not declared in cove.toml,
              or it is optional and the operator denied it.
            - ``denied``: the capability is granted but not this use of it (an
              http host outside the allowlist, a transport outside
              ``[capabilities.messaging] transports``, a state write in init
              or a hook, a chain or signing method not granted).
            - ``invalid-input``: a bad argument (an empty event name, an
              invalid URL, a node's JSON-RPC error for a chain call).
            - ``not-found``: no such key (``state.get`` turns it into the default).
            - ``limit-exceeded``: a per-event or size limit ([resources]:
              sends, emits, state quota, response size, redirects).
            - ``timeout``: the call ran out of time (an http request past
              ``[http] timeout`` or the module's deadline).
            - ``unavailable``: the backend could not answer (a refused or
              failed connection, a chain endpoint down, no canned answer
              under MockHost or ``cove run --mock``).
            - ``internal``: the host failed; the message says how.
        message: what went wrong, naming the module, the capability or the value.
    """

    __module__ = "cove_sdk"  # tracebacks and error texts name the public path

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class ConfigError(Exception):
    """The module's ``[config]`` does not fit the dataclass it is read into."""

    __module__ = "cove_sdk"
