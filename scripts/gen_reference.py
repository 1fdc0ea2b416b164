"""Generate docs/reference/*.md from the config models and the WIT package.

The manifest and engine-config pages walk the pydantic models (key paths,
types, defaults and each field's ``description``); the WIT page reads
``src/cove/wit/host.wit`` (interfaces, types, functions and ``///`` docs).
``tests/unit/test_docs_reference.py`` fails when the committed pages differ.

Run: .venv/bin/python scripts/gen_reference.py [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from cove._config import EngineConfig
from cove._config_base import checked_duration
from cove._hosts._wasm_contract import INTERFACE_CAPABILITY
from cove._manifest import Manifest
from cove._manifest_grants import ALWAYS_GRANTED

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reference"
HOST_WIT = ROOT / "src" / "cove" / "wit" / "host.wit"

# Set by the loaders from the file's location; a file that sets it is refused.
NOT_KEYS = frozenset({"root"})
# Field validators whose name says which unit a string field holds.
UNIT_VALIDATORS = {"_duration": "duration", "_size": "size"}

UNITS = """\
Units: a **duration** is a string such as `"250ms"`, `"30s"`, `"5m"`, `"1h"` or
`"2d"` (at least 1 ms). A **size** is a byte count (`1048576`) or a string such
as `"512KiB"`, `"64MiB"` or `"1GB"` (KiB/MiB/GiB are powers of 1024, KB/MB/GB
of 1000)."""


# --- the config models -------------------------------------------------------


@dataclass
class Row:
    key: str
    type: str
    default: str
    description: str


@dataclass
class Table:
    heading: str
    intro: str
    rows: list[Row] = field(default_factory=list)

    @property
    def is_key_path(self) -> bool:
        return self.heading.startswith("[")


def _strip(annotation: Any) -> tuple[Any, bool]:
    """Drop ``Annotated`` and ``None``; returns (annotation, optional)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if _is_union(annotation):
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        if len(rest) < len(args):
            if len(rest) == 1:
                return _strip(rest[0])[0], True
            return Union[tuple(rest)], True  # noqa: UP007
    return annotation, False


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (Union, types.UnionType)


def _model(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _models_in(annotation: Any) -> list[type[BaseModel]] | None:
    """The models of a union of models (a discriminated ``[[subscription]]``)."""
    annotation, _ = _strip(annotation)
    if _model(annotation):
        return [annotation]
    if _is_union(annotation):
        found = [_model(_strip(a)[0]) for a in typing.get_args(annotation)]
        if all(found):
            return [m for m in found if m is not None]
    return None


def _type_name(annotation: Any) -> str:
    annotation, _ = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " or ".join(f'`"{v}"`' for v in typing.get_args(annotation))
    if _is_union(annotation):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"list of ({_type_name(item)})" if _is_union(item) else f"list of {_type_name(item)}"
    if origin is dict:
        return "table"
    names: dict[Any, str] = {
        str: "string",
        int: "integer",
        float: "float",
        bool: "boolean",
        Path: "path",
        Any: "any",
        type(None): "null",
    }
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _unit(model: type[BaseModel], name: str) -> str | None:
    field = model.model_fields.get(name)
    if field is not None and any(
        getattr(m, "func", None) is checked_duration for m in field.metadata
    ):
        return "duration"
    for decorator in model.__pydantic_decorators__.field_validators.values():
        if name in decorator.info.fields and decorator.cls_var_name in UNIT_VALIDATORS:
            return UNIT_VALIDATORS[decorator.cls_var_name]
    return None


def _size_text(value: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= scale and value % scale == 0:
            return f'`{value}` (`"{value // scale}{unit}"`)'
    return f"`{value}`"


def _value_text(value: Any, unit: str | None) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and unit == "size":
        return _size_text(value)
    if isinstance(value, int):
        return f"`{value:_}`" if value >= 10_000 else f"`{value}`"
    if isinstance(value, str | Path):
        return f'`"{value}"`'
    return f"`{value!r}`"


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return typing.cast(Callable[[], Any], info.default_factory)()
    return info.default


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _walk(
    model: type[BaseModel],
    path: str,
    intro: str,
    instance: BaseModel | None,
    tables: list[Table],
    array: bool = False,
) -> None:
    """One table for ``model`` at ``path``; nested models get tables of their own."""
    heading = f"[[{path}]]" if array else f"[{path}]" if path else "Top-level keys"
    table = Table(heading, intro)
    tables.append(table)
    nested: list[Callable[[], None]] = []
    for name, info in model.model_fields.items():
        if name in NOT_KEYS:
            continue
        description = info.description or ""
        key = f"{path}.{name}" if path else name
        value = getattr(instance, name) if instance is not None else _default(info)
        annotation, optional = _strip(info.annotation)
        sub = _model(annotation)
        if sub is not None:
            note = " Optional: absent unless set." if optional else ""
            sub_instance = value if isinstance(value, BaseModel) else None
            nested.append(partial(_walk, sub, key, description + note, sub_instance, tables))
            continue
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is list and (variants := _models_in(args[0])) is not None:
            nested.append(partial(_variants, variants, key, description, tables))
            continue
        if origin is dict and (sub := _model(_strip(args[1])[0])) is not None:
            nested.append(partial(_walk, sub, f"{key}.<name>", description, None, tables))
            continue
        if origin is dict:
            free = Table(f"[{key}]", description + " A free-form table: any keys.")
            nested.append(partial(tables.append, free))
            continue
        unit = _unit(model, name)
        type_name = unit if unit is not None else _type_name(info.annotation)
        default = "required" if info.is_required() else _value_text(value, unit)
        table.rows.append(Row(f"`{name}`", type_name, default, description))
    for walk in nested:
        walk()


def _variants(variants: list[type[BaseModel]], path: str, intro: str, tables: list[Table]) -> None:
    if len(variants) == 1:
        _walk(variants[0], path, intro + " An array of tables.", None, tables, array=True)
        return
    tables.append(Table(f"[[{path}]]", intro + " An array of tables; `kind` picks the shape."))
    for variant in variants:
        kind = typing.get_args(_strip(variant.model_fields["kind"].annotation)[0])[0]
        sub: list[Table] = []
        _walk(variant, path, variant.model_fields["kind"].description or "", None, sub, array=True)
        sub[0].heading = f'[[{path}]] kind = "{kind}"'
        sub[0].rows = [r for r in sub[0].rows if r.key != "`kind`"]
        tables.extend(sub)


def _render_tables(title: str, source: str, intro: str, tables: list[Table]) -> str:
    out = [
        f"# {title}",
        "",
        f"<!-- Generated by scripts/gen_reference.py from {source}; do not edit by hand. -->",
        "",
        intro,
        "",
        UNITS,
        "",
    ]
    for table in tables:
        out += [f"## `{table.heading}`" if table.is_key_path else f"## {table.heading}", ""]
        if table.intro:
            out += [table.intro.strip(), ""]
        if table.rows:
            out += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
            out += [
                f"| {r.key} | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.description)} |"
                for r in table.rows
            ]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_manifest() -> str:
    tables: list[Table] = []
    _walk(Manifest, "", "", None, tables)
    top = tables.pop(0)
    assert not top.rows, f"top-level manifest keys need a section: {top.rows}"
    return _render_tables(
        "Module manifest (`cove.toml`)",
        "src/cove/_manifest.py and its _manifest_* sections",
        "Every module directory holds a `cove.toml`. Unknown keys are refused, and an "
        "error names the file and the key. `cove check DIR` validates one without running it.",
        tables,
    )


def render_engine_config() -> str:
    tables: list[Table] = []
    _walk(EngineConfig, "", "", None, tables)
    return _render_tables(
        "Engine config",
        "src/cove/_config.py and its _config_* sections",
        "The operator's TOML file, passed as `cove run --config FILE`. Relative paths "
        "resolve against the file's directory. Unknown keys are refused, and an error "
        "names the file and the key.",
        tables,
    )


# --- the WIT package ---------------------------------------------------------


@dataclass
class WitItem:
    kind: str  # enum | record | variant | flags | type | func | import | export | use
    name: str
    doc: str
    text: str = ""
    members: list[tuple[str, str, str]] = field(default_factory=list)  # name, type, doc


@dataclass
class WitBlock:
    kind: str  # interface | world
    name: str
    doc: str
    items: list[WitItem] = field(default_factory=list)


_TYPE_START = re.compile(r"^(enum|record|variant|flags)\s+([\w-]+)\s*\{$")
_BLOCK_START = re.compile(r"^(interface|world)\s+([\w-]+)\s*\{$")
_FUNC = re.compile(r"^(?:(import|export)\s+)?([\w-]+)\s*:\s*(func\b.*);$")
_MEMBER = re.compile(r"^([\w-]+)\s*(?::\s*(.+?)|\((.+)\))?,?$")


def parse_wit(text: str) -> tuple[str, str, list[WitBlock]]:
    """(package name, package doc, blocks) of a single-file WIT package."""
    package, package_doc = "", ""
    blocks: list[WitBlock] = []
    doc: list[str] = []
    block: WitBlock | None = None
    item: WitItem | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("///"):
            doc.append(line[3:].removeprefix(" "))
            continue
        if not line or line.startswith("//"):
            continue
        here, doc = _join(doc), []
        if item is not None:
            if line == "}":
                block.items.append(item)  # type: ignore[union-attr]
                item = None
            elif match := _MEMBER.match(line):
                item.members.append((match[1], match[2] or match[3] or "", here))
            continue
        if line.startswith("package "):
            package, package_doc = line.removeprefix("package ").rstrip(";"), here
        elif match := _BLOCK_START.match(line):
            block = WitBlock(match[1], match[2], here)
            blocks.append(block)
        elif line == "}":
            block = None
        elif block is None:
            raise ValueError(f"unexpected WIT outside a block: {line!r}")
        elif match := _TYPE_START.match(line):
            item = WitItem(match[1], match[2], here)
        elif match := _FUNC.match(line):
            block.items.append(WitItem(match[1] or "func", match[2], here, match[3]))
        elif line.startswith("type "):
            name = line.removeprefix("type ").split("=")[0].strip()
            block.items.append(WitItem("type", name, here, line.rstrip(";")))
        elif line.startswith(("use ", "import ", "export ", "include ")):
            word, _, rest = line.partition(" ")
            block.items.append(WitItem(word, rest.rstrip(";"), here))
        else:
            raise ValueError(f"WIT line the reference generator does not know: {line!r}")
    return package, package_doc, blocks


def _join(lines: list[str]) -> str:
    paragraphs, current = [], []
    for line in [*lines, ""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)


def _capability_note(interface: str) -> str:
    if interface not in INTERFACE_CAPABILITY:
        return ""
    capability = INTERFACE_CAPABILITY[interface]
    if capability is None:
        return "Shared types; importing it needs no capability."
    if capability in ALWAYS_GRANTED:
        return f"Capability `{capability}`: granted to every module without asking."
    return f"Capability `{capability}`: declare it in `[capabilities]` required or optional."


def render_wit(text: str) -> str:
    package, package_doc, blocks = parse_wit(text)
    out = [
        f"# WIT reference: `{package}`",
        "",
        "<!-- Generated by scripts/gen_reference.py from src/cove/wit/host.wit; "
        "do not edit by hand. -->",
        "",
        "Source: `src/cove/wit/host.wit`, published as `wit/host.wit`. Host functions "
        "report failures as `host-error` values; see docs/security.md for what each "
        "capability allows.",
        "",
        package_doc,
        "",
        "Contents: " + ", ".join(f"[{b.kind} `{b.name}`](#{b.kind}-{b.name})" for b in blocks),
        "",
    ]
    for block in blocks:
        out += [f"## {block.kind} `{block.name}`", ""]
        if block.doc:
            out += [block.doc, ""]
        note = _capability_note(block.name) if block.kind == "interface" else ""
        if note:
            out += [note, ""]
        uses = [i.name for i in block.items if i.kind == "use"]
        if uses:
            out += ["Uses " + ", ".join(f"`{u}`" for u in uses) + ".", ""]
        for kind, verb in (("include", "Includes"), ("import", "Imports"), ("export", "Exports")):
            names = [i.name for i in block.items if i.kind == kind and not i.text]
            if names:
                out += [f"{verb} " + ", ".join(f"`{n}`" for n in names) + ".", ""]
        for item in block.items:
            out += _render_item(item)
    return "\n".join(out).rstrip() + "\n"


def _render_item(item: WitItem) -> list[str]:
    if item.kind in ("use", "import", "include") or (item.kind == "export" and not item.text):
        return []
    if item.kind in ("func", "export"):
        prefix = "export " if item.kind == "export" else ""
        out = [f"### `{item.name}`", "", "```wit", f"{prefix}{item.name}: {item.text};", "```", ""]
        return out + ([item.doc, ""] if item.doc else [])
    if item.kind == "type":
        out = [f"### type `{item.name}`", "", "```wit", f"{item.text};", "```", ""]
        return out + ([item.doc, ""] if item.doc else [])
    out = [f"### {item.kind} `{item.name}`", ""]
    if item.doc:
        out += [item.doc, ""]
    if item.kind in ("enum", "flags"):
        out += ["| case | meaning |", "| --- | --- |"]
        out += [f"| `{name}` | {_cell(doc)} |" for name, _, doc in item.members]
    else:
        label = "field" if item.kind == "record" else "case"
        out += [f"| {label} | type | meaning |", "| --- | --- | --- |"]
        out += [
            f"| `{name}` | {'`' + _cell(ty) + '`' if ty else ''} | {_cell(doc)} |"
            for name, ty, doc in item.members
        ]
    return [*out, ""]


# --- entry point -------------------------------------------------------------


def render_all() -> dict[Path, str]:
    """Every generated page, by path, rendered from the current source."""
    return {
        OUT / "manifest.md": render_manifest(),
        OUT / "engine-config.md": render_engine_config(),
        OUT / "wit.md": render_wit(HOST_WIT.read_text()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages")
    args = parser.parse_args()
    stale = []
    for path, text in render_all().items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
