"""docs/reference/sdk.md is what scripts/gen_sdk_reference.py makes from the SDK's docstrings."""

from __future__ import annotations

import difflib
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    return load_script("gen_sdk_reference")


def test_the_committed_page_matches_the_docstrings() -> None:
    rendered = _generator().render()
    committed = (ROOT / "docs" / "reference" / "sdk.md").read_text()
    if committed != rendered:
        diff = difflib.unified_diff(
            committed.splitlines(), rendered.splitlines(), "committed", "source", lineterm=""
        )
        pytest.fail(
            "docs/reference/sdk.md is out of date: run python scripts/gen_sdk_reference.py\n"
            + "\n".join(list(diff)[:30]),
            pytrace=False,
        )


def test_the_page_has_the_fetch_signature_the_response_fields_and_every_error_kind() -> None:
    page = _generator().render()
    assert "### `fetch(url: str, method: str = 'GET', headers: dict[str, str] | None" in page
    for field in ("status:", "headers:", "body:", "#### `.ok` (property)", "#### `.json() -> Any`"):
        assert field in page
    for kind in _generator()._error_kinds():
        assert f"- ``{kind}``:" in page


def test_an_error_kind_missing_from_the_hosterror_docstring_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generator = _generator()
    monkeypatch.setattr(generator, "_error_kinds", lambda: ["unsupported", "brand-new"])
    with pytest.raises(SystemExit, match=r"error kinds \['brand-new'\]"):
        generator.render()


def test_a_public_member_without_a_docstring_stops_the_generator() -> None:
    generator = _generator()

    class Undocumented:
        """Documented class."""

        def call(self) -> None:
            pass

    with pytest.raises(SystemExit, match=r"Undocumented\.call has no docstring"):
        generator._members(Undocumented)


def test_every_public_name_of_the_sdk_is_on_the_page() -> None:
    """A name added to ``__all__`` without a place in SECTIONS would be missing silently."""
    import cove_sdk
    from cove_sdk import testing

    generator = _generator()
    listed = {name for _, _, names in generator.SECTIONS for name in names}
    modules = {"alarms", "chain", "identity", "messages", "ui"}  # each a section of its own
    worlds = {"WitWorld", "ToolProvider", "HookHandler", "Migrator"}  # the bindings' entry points
    missing = set(cove_sdk.__all__) - listed - modules - worlds
    missing |= set(testing.__all__) - listed - {"MOCK_KEY"}  # a constant: MockHost's default
    assert set() == missing
