"""The ledger: what each module runs, kept across restarts, and what a rollback returns to."""

from __future__ import annotations

from cove._registry._ledger import LOCAL, Applied, Ledger


class Memory:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def source_state(self, source: str) -> str | None:
        return self.values.get(source)

    def set_source_state(self, source: str, value: str) -> None:
        self.values[source] = value


def test_what_was_applied_survives_a_restart() -> None:
    store = Memory()
    ledger = Ledger(store)
    ledger.push("shop", Applied("0xa:0", "0.1.0", "/r/shop/0.1.0-aa", "sha256:aa"))
    ledger.push("shop", Applied("0xb:0", "0.2.0", "/r/shop/0.2.0-bb", "sha256:bb"))
    again = Ledger(store)
    current = again.running()["shop"]
    assert ("0xb:0", "0.2.0") == (current.id, current.version)
    assert again.has("shop", "0xa:0") and not again.has("shop", "0xc:0")


def test_removing_the_current_publication_returns_the_one_before() -> None:
    ledger = Ledger(Memory())
    ledger.push("shop", Applied("0xa:0", "0.1.0", "/a"))
    ledger.push("shop", Applied("0xb:0", "0.2.0", "/b"))
    assert (True, Applied("0xa:0", "0.1.0", "/a")) == ledger.remove("shop", "0xb:0")
    assert (False, Applied("0xa:0", "0.1.0", "/a")) == ledger.remove("shop", "0xz:0")


def test_an_older_removed_publication_changes_nothing_running() -> None:
    ledger = Ledger(Memory())
    ledger.push("shop", Applied("0xa:0", "0.1.0", "/a"))
    ledger.push("shop", Applied("0xb:0", "0.2.0", "/b"))
    was_current, now = ledger.remove("shop", "0xa:0")
    assert not was_current
    assert now is not None and "0.2.0" == now.version


def test_a_module_back_at_its_local_version_is_the_operators_again() -> None:
    ledger = Ledger(Memory())
    ledger.push("shop", Applied(LOCAL, "0.1.0", "/modules/shop"))
    ledger.push("shop", Applied("0xa:0", "0.2.0", "/a"))
    assert (True, Applied(LOCAL, "0.1.0", "/modules/shop")) == ledger.remove("shop", "0xa:0")
    assert {} == ledger.running()
    assert ledger.current("shop") is None
