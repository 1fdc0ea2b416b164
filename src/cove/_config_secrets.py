"""The operator's ``[secrets.<name>]``: credentials the host uses for a module, never shows it.

A secret's value never sits in the engine config: ``env`` names an
environment variable and ``file`` a file that holds it. Which modules may use
which secret is granted in ``[overrides.<module>] secrets``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, model_validator

from ._config_base import StrictModel
from .errors import ConfigError

SECRET_NAME = r"^[a-z][a-z0-9_-]{0,62}$"


class SecretSource(StrictModel):
    env: str | None = Field(default=None, description="Environment variable holding the value.")
    file: Path | None = Field(
        default=None,
        description="File holding the value (one trailing newline is dropped); relative to "
        "the config file.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("set exactly one of env or file")
        return self


def read_secret(name: str, source: SecretSource, config_file: Path) -> str:
    """The secret's value; errors name the config file and the key, never a value."""
    where = f"{config_file}: secrets.{name}"
    if source.env is not None:
        value = os.environ.get(source.env)
        if not value:
            raise ConfigError(f"{where}.env: environment variable {source.env!r} is not set")
        return value
    assert source.file is not None
    path = source.file if source.file.is_absolute() else config_file.parent / source.file
    try:
        value = path.read_text().removesuffix("\n")
    except OSError as exc:
        raise ConfigError(f"{where}.file: cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ConfigError(f"{where}.file: {path} is empty")
    return value
