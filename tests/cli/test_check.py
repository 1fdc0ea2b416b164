"""`cove check` lists every problem at once, each with its file and key."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cove._cli._main import cli
from cove._hosts import _fast_call
from cove._supply._store import sha256_pin
from tests.helpers.http_server import local_http_server
from tests.helpers.keys import PASSPHRASE, write_keystore
from tests.helpers.modules import ASSETS, write_manifest
from tests.integration.test_supply import fetched_probe, store_section


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    return result.exit_code, result.output


def test_schema_problems_are_all_listed(tmp_path: Path) -> None:
    (tmp_path / "cove.toml").write_text(
        '[module]\nname = "Bad"\nkind = "wasm"\ncomponent = "x.wasm"\n'
        '[capabilities]\nrequired = ["store", "nope"]\n'
        '[[subscription]]\nkind = "tick"\n'
    )
    code, out = check(str(tmp_path))
    manifest = tmp_path / "cove.toml"
    assert 1 == code
    assert f"✗ {manifest}: module.name: String should match pattern" in out
    assert f"✗ {manifest}: capabilities.required[1]: Input should be" in out
    assert f"✗ {manifest}: subscription[0]: Value error, a tick subscription needs" in out
    assert "3 problem(s); nothing was loaded" in out


def test_component_problems_are_all_listed(tmp_path: Path, probe_wasm: Path) -> None:
    """A stale pin and two undeclared imports in one run, plus a policy refusal."""
    module = write_manifest(tmp_path / "probe", "probe", component=probe_wasm, required=["store"])
    manifest = module / "cove.toml"
    stale = 'sha256 = "sha256:' + "0" * 64 + '"'
    manifest.write_text(re.sub(r'sha256 = "sha256:[0-9a-f]{64}"', stale, manifest.read_text()))
    engine = tmp_path / "engine.toml"
    engine.write_text('[policy]\ndeny = ["store"]\n')
    code, out = check(str(module), "--engine-config", str(engine))
    assert 1 == code
    assert (
        f"{manifest}: capabilities.required: requires 'store' but the operator policy denies it"
        in out
    )
    assert f"{manifest}: module.sha256: pins sha256:{'0' * 64} but probe.wasm is sha256:" in out
    for interface in ("http", "messaging", "events"):
        assert f"probe.wasm imports cove:host/{interface} but its manifest does not declare" in out
    assert "5 problem(s)" in out
    assert "warning:" in out and "init was not run" in out


def test_a_valid_module_passes_with_its_imports(tmp_path: Path, probe_wasm: Path) -> None:
    module = write_manifest(
        tmp_path / "probe",
        "probe",
        component=probe_wasm,
        required=["store", "http", "messaging", "events"],
    )
    code, out = check(str(module))
    assert (
        0,
        "ok: probe 0.1.0 (wasm); imports config, events, http, logging, messaging, store\n",
    ) == (
        code,
        out.splitlines()[-1] + "\n",
    )
    assert f"wasm call path: fast, {_fast_call.implementation()}" == out.splitlines()[-2]


def test_check_names_the_fast_path_s_ctypes_fallback_and_its_reason(
    tmp_path: Path, probe_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fast_call, "COMPILED", False)
    monkeypatch.setattr(_fast_call, "EXT_PROBLEM", "C extension not built (test)")
    module = write_manifest(
        tmp_path / "probe", "probe", component=probe_wasm,
        required=["store", "http", "messaging", "events"],
    )  # fmt: skip
    code, out = check(str(module))
    assert 0 == code
    assert "wasm call path: fast, ctypes (C extension not built (test))" in out.splitlines()


def test_native_init_failures_are_reported_against_config(tmp_path: Path) -> None:
    module = tmp_path / "watcher"
    shutil.copytree(ASSETS / "mock_native", module, ignore=shutil.ignore_patterns("__pycache__"))
    (module / "watcher.py").write_text(
        (module / "watcher.py").read_text()
        + "\n\ndef _init(self, ctx):\n    raise ValueError('config.limit: expected int')\n\n\nWatcher.init = _init\n"
    )
    code, out = check(str(module))
    assert 1 == code
    assert (
        f"{module / 'cove.toml'}: config: init raised ValueError: config.limit: expected int" in out
    )


def test_a_missing_plugin_entry_names_the_key(tmp_path: Path) -> None:
    module = tmp_path / "watcher"
    shutil.copytree(ASSETS / "mock_native", module, ignore=shutil.ignore_patterns("__pycache__"))
    (module / "watcher.py").unlink()
    code, out = check(str(module))
    assert 1 == code
    assert f"{module / 'cove.toml'}: module.entry: entry 'watcher:Watcher': no watcher.py" in out


def test_a_required_chain_the_config_lacks_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    module = write_manifest(
        tmp_path / "reader", "reader", kind="python", entry="reader:Reader", required=["chain"]
    )
    with (module / "cove.toml").open("a") as manifest:
        manifest.write("\n[capabilities.chain]\nchains = [31337]\n")
    (module / "reader.py").write_text(
        "from cove import Plugin\n\n\nclass Reader(Plugin):\n    pass\n"
    )
    code, out = check(str(module))
    assert 1 == code
    assert "capabilities.required: requires chain ids [31337], which the engine config" in out
    assert "1 problem(s)" in out


def test_an_identity_key_that_does_not_unlock_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = write_manifest(
        tmp_path / "signer", "signer", kind="python", entry="signer:Signer", required=["identity"]
    )
    (module / "signer.py").write_text(
        "from cove import Plugin\n\n\nclass Signer(Plugin):\n    pass\n"
    )
    keystore = write_keystore(tmp_path / "signer.json")
    engine = tmp_path / "engine.toml"
    engine.write_text(
        f'[identity.modules.signer]\nkeystore = "{keystore}"\npassphrase_env = "SIGNER_PASS"\n'
    )
    monkeypatch.setenv("SIGNER_PASS", "wrong")
    code, out = check(str(module), "--engine-config", str(engine))
    assert 1 == code
    assert f"capabilities.identity: identity: cannot unlock {keystore}: wrong passphrase" in out
    monkeypatch.setenv("SIGNER_PASS", PASSPHRASE)
    code, out = check(str(module), "--engine-config", str(engine))
    assert 0 == code, out


def test_check_shows_the_config_merged_with_the_engine_configs_overrides(
    tmp_path: Path, probe_wasm: Path
) -> None:
    module = write_manifest(
        tmp_path / "probe", "probe", component=probe_wasm,
        required=["store", "http", "messaging", "events"], config={"threshold": 7, "name": "x"},
    )  # fmt: skip
    engine = tmp_path / "engine.toml"
    engine.write_text("[overrides.probe.config]\nthreshold = 42\n")
    code, out = check(str(module), "--engine-config", str(engine))
    assert 0 == code, out
    assert '  name = "x"\n  threshold = 42  (overridden)\n' in out


def test_an_override_of_an_undeclared_key_is_a_problem_naming_the_engine_config(
    tmp_path: Path, probe_wasm: Path
) -> None:
    module = write_manifest(
        tmp_path / "probe", "probe", component=probe_wasm, required=["store"],
        config={"threshold": 7},
    )  # fmt: skip
    engine = tmp_path / "engine.toml"
    engine.write_text("[overrides.probe.config]\nthreshhold = 42\n")
    code, out = check(str(module), "--engine-config", str(engine))
    assert 1 == code
    assert (
        f"✗ {engine}: overrides.probe.config.threshhold: module 'probe' declares no config key "
        "'threshhold' (declared: threshold)" in out
    )


def test_a_granted_secret_whose_variable_is_unset_is_a_problem(
    tmp_path: Path, probe_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COVE_TEST_UNSET_SECRET", raising=False)
    module = write_manifest(
        tmp_path / "probe", "probe", component=probe_wasm,
        required=["store", "http", "messaging", "events"],
    )  # fmt: skip
    engine = tmp_path / "engine.toml"
    engine.write_text(
        '[secrets.api-key]\nenv = "COVE_TEST_UNSET_SECRET"\n[overrides.probe]\nsecrets = ["api-key"]\n'
    )
    code, out = check(str(module), "--engine-config", str(engine))
    assert 1 == code
    assert (
        f"✗ {engine}: secrets.api-key.env: environment variable 'COVE_TEST_UNSET_SECRET' is not set"
        in out
    )


def test_a_module_given_by_sources_is_checked_through_the_resolution(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """`cove check` takes the component as the engine would: the store, else each source."""
    wasm = probe_wasm.read_bytes()
    engine = tmp_path / "engine.toml"
    engine.write_text(store_section(tmp_path))
    with local_http_server({"/probe.wasm": (200, {}, wasm)}) as server:
        good = fetched_probe(tmp_path / "good", probe_wasm, sha256_pin(wasm), server.url("/p"))
        missing = check(str(good), "--engine-config", str(engine))
        fetched_probe(good, probe_wasm, sha256_pin(wasm), server.url("/probe.wasm"))
        passed = check(str(good), "--engine-config", str(engine))
    assert 1 == missing[0]
    assert f"module.sources: {sha256_pin(wasm)} is not in the content store" in missing[1]
    assert f"{server.url('/p')}: HTTP 404" in missing[1]
    assert 0 == passed[0], passed[1]
