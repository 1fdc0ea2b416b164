"""One anvil per test module: chain tests share the node and mine what they need."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.anvil import Anvil, running_anvil


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    with running_anvil() as node:
        yield node


@pytest.fixture
def fresh_anvil() -> Iterator[Anvil]:
    """A node of this test's own: the example token deploys at the address its manifests name."""
    with running_anvil() as node:
        yield node
