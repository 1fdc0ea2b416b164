"""Engine config ``[registry]``: the on-chain module registry the engine follows.

Why a section of its own: which contract, which publishers and which module
names are trusted is the operator's decision, never a module's (see
docs/security.md, "The module registry").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, Strict, field_validator

from ._config_base import Duration, StrictModel, repeated

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
MODULE_NAME = r"^[a-z][a-z0-9_-]{0,62}$"


class RegistrySettings(StrictModel):
    chain: Annotated[int, Strict(), Field(gt=0)] = Field(
        description="Chain id of the registry contract; one of the `[[chains]]` entries."
    )
    address: str = Field(
        pattern=ADDRESS,
        description="Address of the registry contract (examples/registry/CoveModuleRegistry.sol) "
        "whose `ModulePublished` logs the engine follows.",
    )
    publishers: list[Annotated[str, Field(pattern=ADDRESS)]] = Field(
        min_length=1,
        description="Allowlist: only publications sent by these addresses (`msg.sender` of "
        "`publish`) are applied; any other is ignored with one log line.",
    )
    confirmations: Annotated[int, Strict(), Field(ge=0, le=10_000)] = Field(
        default=6,
        description="Depth a publication's block must reach before it is applied; a reorg "
        "deeper than this one rolls the module back to its previous version.",
    )
    dir: Path | None = Field(
        default=None,
        description="Where fetched modules live, as `<dir>/<name>/<version>-<sha256 prefix>/` "
        "(each version kept, for a rollback); unset: `<data_dir>/registry`.",
    )
    fetch_patience: Duration = Field(
        default="10m",
        description="How long a publication whose module cannot be fetched (its server "
        "unreachable or failing) is tried again (1 s doubling to 1 min between tries), "
        "holding the publications after it, before it is refused and passed. A wrong hash "
        "or name is refused at once.",
    )
    load: Literal["all"] | list[Annotated[str, Field(pattern=MODULE_NAME)]] = Field(
        default="all",
        description="Module names whose publications are applied (loaded when new, "
        'upgraded when loaded): `"all"`, or a list; others are ignored with one log line.',
    )

    @field_validator("address")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("publishers")
    @classmethod
    def _unique_publishers(cls, value: list[str]) -> list[str]:
        lowered = [p.lower() for p in value]
        if twice := repeated(lowered):
            raise ValueError(f"publishers must be unique; repeated: {twice}")
        return lowered

    def applies_to(self, module: str) -> bool:
        return self.load == "all" or module in self.load
