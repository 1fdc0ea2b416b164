"""The operator's ``[budgets.<module>]``: what one module may spend over an hour or a day,
and which of its actions wait for the operator's approval.

Per-event limits (``[resources]``) stop a runaway event; these stop a module
that behaves per event but adds up: an agent sending a message a minute all
night, or a wallet draining in small transactions. Each key is optional; an
unset key is no budget. Windows are fixed UTC hours and days.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from ._config_base import StrictModel

Count = Annotated[int, Strict(), Field(ge=0)]


class ModuleBudget(StrictModel):
    fuel_per_hour: Count | None = Field(
        default=None,
        description="Wasm fuel the module's events may burn per UTC hour (tool calls are not "
        "counted); an event that starts past it fails with `limit-exceeded` (native plugins "
        "burn none).",
    )
    http_requests_per_day: Count | None = Field(
        default=None, description="`http.fetch` calls per UTC day."
    )
    chain_requests_per_day: Count | None = Field(
        default=None,
        description="JSON-RPC calls through `chain.request` and `chain.request-batch` per UTC "
        "day (a batch counts each call).",
    )
    transactions_per_day: Count | None = Field(
        default=None, description="`identity.send-transaction` calls per UTC day."
    )
    value_wei_per_day: Count | None = Field(
        default=None,
        description="Wei the module's transactions may send per UTC day (the sum of their "
        "`value`).",
    )
    messages_per_hour: Count | None = Field(
        default=None, description="`messaging.send` calls per UTC hour."
    )
    hold_new_recipients: bool = Field(
        default=False,
        description="Hold a message to a recipient (per transport) the module never sent to "
        "for an operator's approval (`cove approvals`) instead of sending it.",
    )
    hold_value_above_wei: Count | None = Field(
        default=None,
        description="Hold a transaction whose `value` is above this many wei for an "
        "operator's approval instead of sending it (the module's call fails with `denied` "
        "saying so; approved, the outbox signs and sends it).",
    )


__all__ = ["ModuleBudget"]
