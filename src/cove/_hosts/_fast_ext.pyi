"""Types of the C extension built from ``_fast_ext.c`` (see ``_fast_call``)."""

from collections.abc import Callable
from typing import Any

TRAMPOLINE: int
MAX_PARAMS: int

def bind(
    func_call: int,
    val_clone: int,
    val_delete: int,
    error_new: int,
    set_fuel: int,
    get_fuel: int,
    set_epoch_deadline: int,
    raise_error: Callable[[int], None],
    /,
) -> None: ...

class Shape:
    def __init__(self, type: tuple[Any, ...], /) -> None: ...
    def clone_into(self, value: Any, address: int, /) -> None: ...
    def read(self, address: int, /) -> Any: ...

class Store:
    store: Any
    def __init__(self, store: Any, context: int, /) -> None: ...
    def set_fuel(self, fuel: int, /) -> None: ...
    def get_fuel(self) -> int: ...
    def set_epoch_deadline(self, ticks: int, /) -> None: ...

class Func:
    def __init__(
        self, owner: Any, func: int, context: int, params: list[Shape], error_limit: int = -1, /
    ) -> None: ...
    def __call__(self, *args: Any) -> str | None: ...

class Callback:
    def __init__(
        self,
        params: list[Shape],
        result: Shape | None,
        invoke: Callable[..., Any],
        fail: Callable[[BaseException], bytes],
        /,
    ) -> None: ...
