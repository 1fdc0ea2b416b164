"""Engine config ``[identity]``: which keystore each module signs with, and its passphrase.

The operator's file, never the manifest, says which key a module holds: a
module asks for the ``identity`` capability, the operator decides whose
account that is. The passphrase is named (an environment variable or a
file), never written here, like every other secret in the engine config.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from ._config_base import StrictModel


class ModuleKey(StrictModel):
    """``[identity.modules.<name>]``: one module's key."""

    keystore: Path = Field(
        description="Ethereum v3 keystore file (as `cove key new` writes), relative to this file."
    )
    passphrase_env: str | None = Field(
        default=None, description="Environment variable holding the keystore's passphrase."
    )
    passphrase_file: Path | None = Field(
        default=None, description="File holding the keystore's passphrase (one line)."
    )

    @model_validator(mode="after")
    def _one_passphrase(self) -> ModuleKey:
        if (self.passphrase_env is None) == (self.passphrase_file is None):
            raise ValueError("set exactly one of passphrase_env or passphrase_file")
        return self


class IdentitySettings(StrictModel):
    modules: dict[str, ModuleKey] = Field(
        default_factory=dict,
        description="The key of each module that declares `identity`, keyed by module name; "
        "unlocked once when the module loads.",
    )
