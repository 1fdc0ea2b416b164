"""Engine config for how modules run: [http] (their fetches), [wasm] (the runtime),
[commit] (when their commits are durable) and [watch] (reloads on file changes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, Strict, StrictInt, field_validator

from ._config_base import Duration, StrictModel
from ._units import parse_size_bytes


class HttpSettings(StrictModel):
    timeout: Duration = Field(default="10s", description="Timeout of one module http request.")
    max_response_bytes: StrictInt | str = Field(
        default=4 * 1024 * 1024,
        description="Largest response body a module receives; more is `limit-exceeded`.",
    )
    max_redirects: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=5, description="Redirects followed per fetch; each target is checked again."
    )

    @field_validator("max_response_bytes")
    @classmethod
    def _size(cls, value: int | str) -> int:
        return parse_size_bytes(value)


class WasmSettings(StrictModel):
    cache_dir: Path | None = Field(
        default=None,
        description="Compiled-component cache; unset: the per-user cache shared by every "
        "engine and command (`$COVE_CACHE_DIR/compiled`, else e.g. `~/.cache/cove/compiled`).",
    )
    epoch_tick: Duration = Field(
        default="10ms", description="Epoch ticker period: the resolution of wasm deadlines."
    )
    hibernate_after: Duration | None = Field(
        default=None,
        description="A wasm module idle this long (no event, tool call or hook call) has its "
        "instance and Store dropped (`hibernating`) until its next call; unset: never. "
        "`[overrides.<name>] hibernate_after` sets one module's (see docs/lifecycle.md).",
    )
    compiler: Literal["tiered", "cranelift", "winch"] | None = Field(
        default=None,
        description="What compiles a component missing from the cache. `tiered`: Winch "
        "(wasmtime's baseline compiler, ~4x faster to compile) so the module runs at once, "
        "then Cranelift (optimized code) in the background, which the module moves to "
        "between two events and the cache keeps; `cranelift`: Cranelift only (the module "
        "waits for it); `winch`: Winch only (slower events). Unset: `$COVE_WASM_COMPILER`, "
        "else `tiered`.",
    )
    call_path: Literal["fast", "ctypes"] = Field(
        default="fast",
        description="Calls into wasm go through wasmtime's C API; `fast`: with cove's C "
        "extension where it was built (else ctypes), `ctypes`: always through ctypes.",
    )


class CommitSettings(StrictModel):
    """Group commit (``batched``) or one fsync per event (``per-event``)."""

    mode: Literal["batched", "per-event"] = Field(
        default="batched",
        description="`batched`: one fsync per group of events; `per-event`: one per event.",
    )
    max_delay: Duration = Field(
        default="10ms", description="batched: longest a committed event waits to be durable."
    )
    max_batch: Annotated[int, Strict(), Field(gt=0)] = Field(
        default=2_000, description="batched: flush as soon as this many events wait."
    )


class WatchSettings(StrictModel):
    """``[watch]``: reload a loaded module when its files change (``modules`` is the list of
    module paths, so the switch has a table of its own)."""

    enabled: bool = Field(
        default=False,
        description="Reload a loaded module when its cove.toml or component changes (a "
        "python plugin: any .py file in its directory), as `cove module reload` does.",
    )
    debounce: Duration = Field(
        default="300ms",
        description="Changes this close together make one reload (a build writes the "
        "component, then the pin).",
    )
