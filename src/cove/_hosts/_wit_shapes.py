"""WIT types as the fast path's shapes, read from a compiled component's own types.

The fast path writes and reads values by shape (``_fast_values.Type``); taking
the shapes from the component (what wasmtime will check the values against)
instead of writing them by hand means a shape cannot drift from the WIT.
"""

from __future__ import annotations

from typing import Any

import wasmtime
from wasmtime.component import (
    F64,
    S64,
    U8,
    U16,
    U32,
    U64,
    Bool,
    Component,
    ComponentInstanceType,
    EnumType,
    FuncType,
    ListType,
    OptionType,
    RecordType,
    ResultType,
    String,
    TupleType,
    VariantType,
)

from . import _fast_values as fv

_SCALARS: dict[type, fv.Type] = {
    Bool: ("bool",),
    U8: ("u8",),
    U16: ("u16",),
    U32: ("u32",),
    U64: ("u64",),
    S64: ("s64",),
    F64: ("f64",),
    String: ("string",),
}


def shape_of(ty: Any) -> fv.Type:
    """The fast path's shape of a wasmtime-py component value type."""
    scalar = _SCALARS.get(type(ty))
    if scalar is not None:
        return scalar
    if isinstance(ty, ListType):
        element = ty.element
        return ("bytes",) if isinstance(element, U8) else ("list", shape_of(element))
    if isinstance(ty, RecordType):
        return ("record", [(name, shape_of(t)) for name, t in ty.fields])
    if isinstance(ty, TupleType):
        return ("tuple", [shape_of(t) for t in ty.elements])
    if isinstance(ty, VariantType):
        return ("variant", [(n, None if t is None else shape_of(t)) for n, t in ty.cases])
    if isinstance(ty, EnumType):
        return ("enum", list(ty.names))
    if isinstance(ty, OptionType):
        return ("option", shape_of(ty.payload))
    if isinstance(ty, ResultType):
        ok, err = ty.ok, ty.err
        return (
            "result",
            None if ok is None else shape_of(ok),
            None if err is None else shape_of(err),
        )
    raise TypeError(f"no fast-path shape for WIT type {type(ty).__name__}")


Signature = tuple[list[fv.Type], "fv.Type | None"]


def signature(func: FuncType) -> Signature:
    """A function's parameter shapes and its result shape (None: no result)."""
    result = func.result
    return [shape_of(t) for _, t in func.params], None if result is None else shape_of(result)


def import_signatures(
    component: Component, engine: wasmtime.Engine, packages: tuple[str, ...]
) -> dict[str, dict[str, Signature]]:
    """Every function of the imported instances of ``packages`` (e.g. ``"cove:host/"``),
    by instance name then function name."""
    found: dict[str, dict[str, Signature]] = {}
    for name, item in component.type.imports(engine).items():
        if not name.startswith(packages):
            continue
        instance = item.ty
        if not isinstance(instance, ComponentInstanceType):
            continue
        functions = {
            n: signature(f.ty)
            for n, f in instance.exports(engine).items()
            if isinstance(f.ty, FuncType)
        }
        if functions:
            found[name] = functions
    return found
