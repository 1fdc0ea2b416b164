"""Engine config ``[store]``: which backend holds the journal, state, cursors and outbox.

SQLite (the default) is a file in ``data_dir``: nothing to run, what ``make run`` and
the quickstarts use. PostgreSQL is the first piece of the scale-out mode (issue 19):
a ``dsn`` without a password, the password in ``[secrets.<name>]``, so it is never in
the config file, in a log line or in an error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ._config_base import StrictModel
from ._config_secrets import SECRET_NAME


class StoreSettings(StrictModel):
    kind: Literal["sqlite", "postgres"] = Field(
        default="sqlite",
        description="`sqlite`: `cove.db` in `data_dir`; `postgres`: the database `dsn` names.",
    )
    dsn: str | None = Field(
        default=None,
        description="postgres: a libpq connection string or URI (`postgresql://cove@db:5432/"
        "cove`), without a password.",
    )
    password_secret: str | None = Field(
        default=None,
        pattern=SECRET_NAME,
        description="postgres: the `[secrets.<name>]` holding the password; unset: none "
        "(or libpq's own PGPASSWORD / .pgpass).",
    )

    @field_validator("dsn")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Here, not at the top: psycopg takes ~100 ms to import, paid only with a dsn.
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        try:
            info = conninfo_to_dict(value)
        except psycopg.ProgrammingError:
            # The driver's message quotes the string, which may hold a password.
            raise ValueError("not a libpq connection string or postgresql:// URI") from None
        if "password" in info:
            raise ValueError(
                "holds a password: put it in [secrets.<name>] and name it in password_secret"
            )
        return value

    @model_validator(mode="after")
    def _dsn_for_postgres(self) -> StoreSettings:
        if self.kind == "postgres" and self.dsn is None:
            raise ValueError('kind = "postgres" needs dsn')
        if self.kind == "sqlite" and (self.dsn is not None or self.password_secret is not None):
            raise ValueError('dsn and password_secret are only for kind = "postgres"')
        return self
