"""The size of a linear memory whose base is known, found by probing its pages.

Why: a module that hibernates notes its instance's peak before the instance
goes, and a read of ``/proc/self/maps`` costs ~0.7 to 1.9 ms of CPU (the
kernel writes out every mapping of the process) on a machine whose cores
the wakes need. The instance's bases are known by then, and a wasm memory
is readable from its base up to its current size, inaccessible after it,
so a binary search over its 64 KiB pages finds the size: 17 calls of
``process_vm_readv`` on the process itself, which answers EFAULT for an
inaccessible page where a plain read would fault. None where the call is
refused (a seccomp profile, not Linux): the caller reads the map instead.
"""

from __future__ import annotations

import ctypes
import errno
import os

WASM_PAGE = 64 << 10


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def _readv() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        func = ctypes.CDLL(None, use_errno=True).process_vm_readv
    except (AttributeError, OSError):
        return None
    func.restype = ctypes.c_ssize_t
    vec = ctypes.POINTER(_IoVec)
    func.argtypes = [ctypes.c_int, vec, ctypes.c_ulong, vec, ctypes.c_ulong, ctypes.c_ulong]
    return func


_READV = _readv()
_BYTE = ctypes.create_string_buffer(1)


def _readable(address: int) -> bool | None:
    """Whether the byte at ``address`` can be read; None: the probe is refused here."""
    if _READV is None:
        return None
    local, remote = _IoVec(ctypes.addressof(_BYTE), 1), _IoVec(address, 1)
    if _READV(os.getpid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) == 1:
        return True
    return False if ctypes.get_errno() == errno.EFAULT else None


def accessible_bytes(base: int, reservation: int) -> int | None:
    """Bytes readable from ``base`` (whole wasm pages, at most ``reservation``); None
    when probing is refused."""
    low, high = 0, reservation // WASM_PAGE  # pages: the first ``low`` are readable
    while low < high:
        middle = (low + high + 1) // 2
        readable = _readable(base + (middle - 1) * WASM_PAGE)
        if readable is None:
            return None
        if readable:
            low = middle
        else:
            high = middle - 1
    return low * WASM_PAGE
