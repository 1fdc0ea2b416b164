"""SDK exceptions; kept apart from the bindings so tests can import them anywhere."""


class HostError(Exception):
    """A host call failed; ``kind`` is one of the WIT ``error-kind`` names."""

    __module__ = "cove_sdk"  # tracebacks and error texts name the public path

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class ConfigError(Exception):
    """The module's ``[config]`` does not fit the dataclass it is read into."""

    __module__ = "cove_sdk"
