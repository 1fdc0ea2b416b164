"""MockHost's vendored bindings are exactly what componentize-py generates from host.wit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cove_sdk.testing import _allow
from hypothesis import given
from hypothesis import strategies as st

from cove._build._python_guest import componentize_py
from cove._build._world import HOST_WIT
from cove._capabilities._http_allow import host_allowed

VENDORED = Path(_allow.__file__).resolve().parent / "_bindings"


def test_vendored_bindings_match_host_wit(tmp_path: Path) -> None:
    """After a change to host.wit, regenerate with the command in the assert message."""
    wit = tmp_path / "wit"
    wit.mkdir()
    (wit / "host.wit").write_text(HOST_WIT.read_text())
    out = tmp_path / "out"
    command = [componentize_py(), "-d", str(wit), "-w", "module", "bindings", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    generated = {
        p.relative_to(out): p.read_text()
        for p in sorted(out.rglob("*.py"))
        if p.parts[len(out.parts)] in ("wit_world", "componentize_py_types.py")
    }
    vendored = {
        p.relative_to(VENDORED): p.read_text()
        for p in sorted(VENDORED.rglob("*.py"))
        if "__pycache__" not in p.parts
    }
    hint = f"regenerate: componentize-py -d src/cove/wit -w module bindings {VENDORED}"
    assert sorted(generated) == sorted(vendored), hint
    assert generated == vendored, hint


hosts = st.sampled_from(["api.example.com", "a.example.com", "example.com", "127.0.0.1", "[::1]"])
patterns = st.lists(
    st.one_of(
        st.sampled_from(["*", "*.example.com", "api.example.com", "127.0.0.1:8080", "[::1]:80"]),
        st.text(max_size=12),
    ),
    max_size=3,
)


@given(
    st.sampled_from(["http", "https", "ftp"]),
    hosts,
    st.one_of(st.none(), st.integers(1, 65535)),
    patterns,
)
def test_allowlist_rule_matches_the_engines(
    scheme: str, host: str, port: int | None, allow: list[str]
) -> None:
    """The SDK may not import cove, so it restates the rule; this keeps them equal."""
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/x"
    assert host_allowed(url, tuple(allow)) == _allow.host_allowed(url, tuple(allow))
