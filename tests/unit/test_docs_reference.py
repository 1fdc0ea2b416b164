"""The generated reference pages in docs/reference match the source they describe."""

from __future__ import annotations

import difflib
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("manifest.md", "engine-config.md", "wit.md")


def _generator() -> ModuleType:
    return load_script("gen_reference")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return {path.name: text for path, text in _generator().render_all().items()}


def test_every_page_is_generated(rendered: dict[str, str]) -> None:
    assert sorted(PAGES) == sorted(rendered)


@pytest.mark.parametrize("page", PAGES)
def test_committed_page_matches_the_source(page: str, rendered: dict[str, str]) -> None:
    path = ROOT / "docs" / "reference" / page
    committed = path.read_text() if path.exists() else ""
    if committed != rendered[page]:
        diff = difflib.unified_diff(
            committed.splitlines(), rendered[page].splitlines(), "committed", "source", lineterm=""
        )
        pytest.fail(
            f"docs/reference/{page} is out of date: run python scripts/gen_reference.py\n"
            + "\n".join(list(diff)[:30]),
            pytrace=False,
        )


def test_every_model_field_has_a_description() -> None:
    """The reference is only as good as the descriptions it is generated from."""
    from pydantic import BaseModel

    from cove._config import EngineConfig
    from cove._manifest import Manifest

    missing: list[str] = []
    seen: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            if not info.description:
                missing.append(f"{model.__name__}.{name}")
        for sub in _models_under(model):
            visit(sub)

    visit(Manifest)
    visit(EngineConfig)
    assert [] == missing


def _models_under(model: type) -> list[type]:
    import typing

    from pydantic import BaseModel

    found: list[type] = []

    def scan(annotation: object) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.append(annotation)
        for arg in typing.get_args(annotation):
            scan(arg)

    for info in model.model_fields.values():  # type: ignore[attr-defined]
        scan(info.annotation)
    return found
