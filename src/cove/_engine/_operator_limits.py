"""What ``[budgets.<module>]`` gives each module: its spending ledger and its approval
thresholds, and the two ways an operator's approval reaches a loaded module.

Kept out of the engine: the engine only wires these into each runner and into
the outbox and approvals.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._capabilities._autonomy import Autonomy
from .._capabilities._chain import ChainBackend
from .._capabilities._identity_tx import SignedTransaction
from .._capabilities._spending import OnExhausted, SourceState, Spending
from .._config_budgets import ModuleBudget
from ._approvals import send_held_transaction, sign_held_transaction
from ._instance import ModuleInstance
from ._runner import ModuleRunner


class OperatorLimits:
    def __init__(
        self,
        budgets: Mapping[str, ModuleBudget],
        store: SourceState,
        runners: Mapping[str, ModuleRunner],
        chain: ChainBackend | None,
        on_exhausted: OnExhausted,
    ) -> None:
        self._budgets = budgets
        self._store = store
        self._runners = runners
        self._chain = chain
        self._on_exhausted = on_exhausted

    def spending(self, module: str) -> Spending | None:
        budget = self._budgets.get(module)
        if budget is None:
            return None
        return Spending(module, budget, self._store, self._on_exhausted)

    def autonomy(self, module: str) -> Autonomy | None:
        budget = self._budgets.get(module)
        if budget is None or not (budget.hold_new_recipients or budget.hold_value_above_wei):
            return None
        return Autonomy(
            module, self._store, budget.hold_new_recipients, budget.hold_value_above_wei
        )

    def sign(self, module: str, chain_id: int, tx_json: str) -> SignedTransaction:
        """Complete and sign a module's approved transaction (the outbox's, on a thread)."""
        instance = self._instance(module)
        methods = instance.grants.chain_methods
        return sign_held_transaction(instance.identity, self._chain, methods, chain_id, tx_json)

    def send(self, module: str, chain_id: int, signed: SignedTransaction) -> str:
        """Send a module's approved transaction as signed (again, after a lost answer)."""
        instance = self._instance(module)
        methods = instance.grants.chain_methods
        return send_held_transaction(instance.identity, self._chain, methods, chain_id, signed)

    def _instance(self, module: str) -> ModuleInstance:
        runner = self._runners.get(module)
        if runner is None:
            raise LookupError(f"module {module!r} is not loaded; its approved transaction waits")
        return runner.instance

    def reached(self, module: str, transport: str, recipient: str) -> None:
        """An approved recipient: the module's next messages to it are not held."""
        runner = self._runners.get(module)
        if runner is not None and runner.autonomy is not None:
            runner.autonomy.learn([(transport, recipient)])


__all__ = ["OperatorLimits"]
