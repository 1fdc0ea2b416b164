"""cove._config.load_config: the operator's engine config and its errors."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cove._cache_dir import compiled_cache_dir
from cove._config import EngineConfig, load_config
from cove._config_limits import DEFAULT_LIMITS, MAX_LIMITS
from cove.errors import ConfigError, ManifestError
from tests.helpers.fakes import dump_toml, model_sections, schema_keys


def write(directory: Path, text: str) -> Path:
    path = directory / "engine.toml"
    path.write_text(text)
    return path


def load_error(directory: Path, text: str) -> str:
    path = write(directory, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert not isinstance(info.value, ManifestError)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message


def test_empty_config_has_defaults(tmp_path: Path) -> None:
    """An empty file is a valid config; paths resolve against its directory."""
    config = load_config(write(tmp_path, ""))
    assert tmp_path.resolve() == config.root
    assert tmp_path.resolve() / ".cove" == config.data_path
    assert compiled_cache_dir() == config.cache_path  # the per-user cache, not the data dir
    assert DEFAULT_LIMITS == config.limits.default
    assert MAX_LIMITS == config.limits.max
    assert "batched" == config.commit.mode
    assert [] == config.module_paths()


def test_full_config_loads(tmp_path: Path) -> None:
    """Every section keeps its values; sizes become bytes."""
    config = load_config(
        write(
            tmp_path,
            """
data_dir = "/var/lib/cove"
modules = ["counter"]
log_format = "json"

[limits.default]
fuel = 1000
memory = "64MiB"
timeout = "1s"

[limits.max]
state = "1GiB"
host_calls = 50

[policy]
deny = ["http"]

[policy.modules.counter]
deny = ["messaging"]
http_allow = ["api.example.com"]
max = { fuel = 10, memory = 1024 }

[http]
timeout = "3s"
max_response_bytes = "1MiB"
max_redirects = 0

[wasm]
cache_dir = "cache"
epoch_tick = "5ms"

[commit]
mode = "per-event"
max_delay = "1ms"
max_batch = 10
""",
        )
    )
    assert Path("/var/lib/cove") == config.data_path
    assert tmp_path.resolve() / "cache" == config.cache_path
    assert [tmp_path.resolve() / "counter"] == config.module_paths()
    assert "json" == config.log_format
    assert (1000, 64 * 1024 * 1024, "1s", DEFAULT_LIMITS.state) == (
        config.limits.default.fuel,
        config.limits.default.memory,
        config.limits.default.timeout,
        config.limits.default.state,
    )
    assert (1024**3, 50) == (config.limits.max.state, config.limits.max.host_calls)
    assert MAX_LIMITS.fuel == config.limits.max.fuel
    assert ["http"] == config.policy.deny
    counter = config.policy.for_module("counter")
    assert ["messaging"] == counter.deny
    assert ["api.example.com"] == counter.http_allow
    assert (10, 1024) == (counter.max.fuel, counter.max.memory)
    assert [] == config.policy.for_module("other").deny
    assert 1024 * 1024 == config.http.max_response_bytes
    assert ("per-event", "1ms", 10) == (
        config.commit.mode,
        config.commit.max_delay,
        config.commit.max_batch,
    )


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("colour = 1\n", "colour"),
        ("root = '/'\n", "root"),
        ("[limits]\ncolour = 1\n", "limits.colour"),
        ("[limits.default]\ncolour = 1\n", "limits.default.colour"),
        ("[limits.max]\ncolour = 1\n", "limits.max.colour"),
        ("[policy]\ncolour = 1\n", "policy.colour"),
        ("[policy.modules.counter]\ncolour = 1\n", "policy.modules.counter.colour"),
        ("[policy.modules.counter.max]\ncolour = 1\n", "policy.modules.counter.max.colour"),
        ("[http]\ncolour = 1\n", "http.colour"),
        ("[wasm]\ncolour = 1\n", "wasm.colour"),
        ("[commit]\ncolour = 1\n", "commit.colour"),
    ],
)
def test_unknown_keys_are_errors_at_every_level(tmp_path: Path, text: str, location: str) -> None:
    """A misspelt key is an error at its own path, never silently ignored."""
    assert f"{location}: unknown key" in load_error(tmp_path, text)


@pytest.mark.parametrize(("section", "array"), sorted(model_sections(EngineConfig).items()))
def test_unknown_keys_are_errors_in_every_section(
    tmp_path: Path, section: str, array: bool
) -> None:
    """Every table of the schema (found from the model, so new ones are covered) is strict."""
    header, location = (f"[[{section}]]", f"{section}[0]") if array else (f"[{section}]", section)
    if typing.get_origin(EngineConfig.model_fields[section].annotation) is dict:
        header, location = f"[{section}.m]", f"{section}.m"  # a table per name, e.g. per module
    assert f"\n  {location}.colour: unknown key" in load_error(tmp_path, f"{header}\ncolour = 1\n")


@pytest.mark.parametrize(
    ("text", "location", "quoted"),
    [
        ("[limits.default]\ntimeout = 'soon'\n", "limits.default.timeout", "'soon'"),
        ("[limits.max]\nmemory = 'huge'\n", "limits.max.memory", "'huge'"),
        (
            "[policy.modules.m.max]\ntimeout = '1 year'\n",
            "policy.modules.m.max.timeout",
            "'1 year'",
        ),
        ("[http]\ntimeout = '10'\n", "http.timeout", "'10'"),
        ("[http]\nmax_response_bytes = '4 megs'\n", "http.max_response_bytes", "'4 megs'"),
        ("[wasm]\nepoch_tick = '0ms'\n", "wasm.epoch_tick", "'0ms'"),
        ("[commit]\nmax_delay = 'eventually'\n", "commit.max_delay", "'eventually'"),
    ],
)
def test_bad_durations_and_sizes_name_key_and_value(
    tmp_path: Path, text: str, location: str, quoted: str
) -> None:
    """Unit errors are reported at their key with the offending text quoted."""
    message = load_error(tmp_path, text)
    line = next(line for line in message.splitlines() if line.startswith(f"  {location}: "))
    assert quoted in line


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("[policy]\ndeny = ['network']\n", "policy.deny[0]"),
        ("[policy.modules.m]\ndeny = ['store', 'nope']\n", "policy.modules.m.deny[1]"),
        ("log_format = 'xml'\n", "log_format"),
        ("[commit]\nmode = 'sometimes'\n", "commit.mode"),
        ("[commit]\nmax_batch = 0\n", "commit.max_batch"),
        ("[http]\nmax_redirects = -1\n", "http.max_redirects"),
        ("[limits.default]\nfuel = 0\n", "limits.default.fuel"),
        ("modules = 'counter'\n", "modules"),
    ],
)
def test_invalid_values_name_the_key_path(tmp_path: Path, text: str, location: str) -> None:
    """Enum, range and type errors are reported at their key path."""
    assert f"\n  {location}: " in load_error(tmp_path, text)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error reports the file and the line it is on."""
    message = load_error(tmp_path, "data_dir = 'x'\n[commit\n")
    assert "not valid TOML" in message
    assert "line 2" in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing config file names the path."""
    with pytest.raises(ConfigError, match="file not found") as info:
        load_config(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(info.value)


# module discovery --------------------------------------------------------------------


def make_module(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "cove.toml").write_text("")
    return directory


def test_module_dirs_find_modules_one_level_down_sorted(tmp_path: Path) -> None:
    """Every child with a cove.toml is a module; others (and grandchildren) are not."""
    base = tmp_path / "mods"
    zeta, alpha = make_module(base / "zeta"), make_module(base / "alpha")
    (base / "notes").mkdir()
    make_module(base / "notes" / "deep")
    (base / "cove.toml").write_text("")
    config = load_config(write(tmp_path, 'module_dirs = ["mods"]\nmodules = ["/abs/one"]\n'))
    assert [Path("/abs/one"), alpha.resolve(), zeta.resolve()] == config.module_paths()


def test_module_dirs_must_be_directories(tmp_path: Path) -> None:
    """A module_dirs entry that is not a directory is a ConfigError naming it."""
    config = load_config(write(tmp_path, 'module_dirs = ["missing"]\n'))
    with pytest.raises(ConfigError, match="module_dirs: ") as info:
        config.module_paths()
    assert str(tmp_path.resolve() / "missing") in str(info.value)


# property -----------------------------------------------------------------------------

VOCABULARY = sorted(schema_keys(EngineConfig))
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=6))
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.sampled_from(["5s", "0ms", "1MiB", "json", "per-event", "store", "x"]),
    st.text(max_size=10),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.dictionaries(keys, toml_values, max_size=6))
def test_random_toml_never_crashes_the_loader(tmp_path: Path, data: dict[str, Any]) -> None:
    """Whatever TOML an operator writes, the loader returns a config or raises ConfigError."""
    text = dump_toml(data)
    assert data == tomllib.loads(text)
    path = write(tmp_path, text)
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(exc).startswith(f"{path}: ")
