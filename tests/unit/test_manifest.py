"""cove._manifest: loading cove.toml, and errors that name the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cove._manifest import Manifest, load_manifest
from cove._manifest_subscriptions import (
    BlockSubscription,
    CustomSubscription,
    LifecycleSubscription,
    LogSubscription,
    MessageSubscription,
    TickSubscription,
    WebhookSubscription,
)
from cove.errors import ManifestError
from tests.helpers.fakes import dump_toml, schema_keys

WASM_MODULE = """\
[module]
name = "counter"
version = "1.2.3"
kind = "wasm"
component = "counter.wasm"
"""

PYTHON_MODULE = """\
[module]
name = "auto_reply"
kind = "python"
entry = "auto_reply:AutoReply"
"""


def write(directory: Path, text: str) -> Path:
    path = directory / "cove.toml"
    path.write_text(text)
    return path


def load_error(directory: Path, text: str) -> str:
    """The message of the ManifestError that loading ``text`` raises."""
    path = write(directory, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message


# valid manifests ------------------------------------------------------------


def test_wasm_manifest_loads_every_section(tmp_path: Path) -> None:
    """A full wasm manifest keeps its values; sizes become bytes, paths resolve."""
    write(
        tmp_path,
        WASM_MODULE
        + 'sha256 = "sha256:'
        + "ab" * 32
        + '"\n'
        + """
[capabilities]
required = ["store", "events"]
optional = ["http", "messaging"]

[capabilities.http]
allow = ["api.example.com", "*.example.org"]

[capabilities.messaging]
transports = ["console"]

[resources]
fuel = 500_000_000
memory = "128MiB"
timeout = "500ms"
state = 1024
host_calls = 10

[restart]
max_failures = 3
backoff_initial = "2s"
backoff_max = "1m"

[config]
threshold = 5
names = ["a", "b"]
ratio = 0.5
on = true

[[subscription]]
kind = "custom"
name = "sensor.reading"
""",
    )
    m = load_manifest(tmp_path)
    assert "counter" == m.name
    assert "1.2.3" == m.module.version
    assert tmp_path.resolve() == m.root
    assert tmp_path.resolve() / "counter.wasm" == m.component_path
    assert frozenset({"store", "events", "http", "messaging"}) == m.capabilities.declared
    assert m.capabilities.http is not None
    assert ["api.example.com", "*.example.org"] == m.capabilities.http.allow
    assert m.capabilities.messaging is not None
    assert ["console"] == m.capabilities.messaging.transports
    assert 500_000_000 == m.resources.fuel
    assert 128 * 1024 * 1024 == m.resources.memory
    assert "500ms" == m.resources.timeout
    assert 1024 == m.resources.state
    assert 10 == m.resources.host_calls
    assert (3, "2s", "1m") == (
        m.restart.max_failures,
        m.restart.backoff_initial,
        m.restart.backoff_max,
    )
    assert {"threshold": 5, "names": ["a", "b"], "ratio": 0.5, "on": True} == m.config
    assert [CustomSubscription(kind="custom", name="sensor.reading")] == m.subscription


def test_python_manifest_loads_with_defaults(tmp_path: Path) -> None:
    """A python module needs only [module]; everything else has defaults."""
    m = load_manifest(write(tmp_path, PYTHON_MODULE))
    assert "auto_reply:AutoReply" == m.module.entry
    assert "0.0.0" == m.module.version
    assert frozenset() == m.capabilities.declared
    assert (5, "1s", "5m") == (
        m.restart.max_failures,
        m.restart.backoff_initial,
        m.restart.backoff_max,
    )
    assert [] == m.subscription
    assert {} == m.config


def test_python_manifest_may_have_nested_config(tmp_path: Path) -> None:
    """Native plugins get their config as any TOML value, tables included."""
    m = load_manifest(
        write(tmp_path, PYTHON_MODULE + '[config]\nrules = [{ match = "hi", reply = "hello" }]\n')
    )
    assert {"rules": [{"match": "hi", "reply": "hello"}]} == m.config


def test_manifest_path_may_be_the_file_or_its_directory(tmp_path: Path) -> None:
    """``load_manifest`` accepts the module directory or the cove.toml inside it."""
    path = write(tmp_path, PYTHON_MODULE)
    assert load_manifest(path) == load_manifest(tmp_path)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "kind = 'block'\nchain_id = 1\nconfirmations = 3",
            BlockSubscription(kind="block", chain_id=1, confirmations=3),
        ),
        (
            "kind = 'log'\nchain_id = 10\naddress = '0xAB'\ntopics = ['0x1', ['0x2', '0x3']]",
            LogSubscription(
                kind="log", chain_id=10, address="0xAB", topics=["0x1", ["0x2", "0x3"]]
            ),
        ),
        (
            "kind = 'log'\nchain_id = 10\naddress = ['0xA', '0xB']",
            LogSubscription(kind="log", chain_id=10, address=["0xA", "0xB"]),
        ),
        (
            "kind = 'tick'\nschedule = '*/5 * * * *'",
            TickSubscription(kind="tick", schedule="*/5 * * * *"),
        ),
        ("kind = 'tick'\nevery = '30s'", TickSubscription(kind="tick", every="30s")),
        ("kind = 'message'", MessageSubscription(kind="message")),
        (
            "kind = 'message'\ntransport = 'console'",
            MessageSubscription(kind="message", transport="console"),
        ),
        (
            "kind = 'webhook'\npath = '/hooks/a.b-c'",
            WebhookSubscription(kind="webhook", path="/hooks/a.b-c"),
        ),
        ("kind = 'custom'\nname = 'sensor.*'", CustomSubscription(kind="custom", name="sensor.*")),
        ("kind = 'lifecycle'", LifecycleSubscription(kind="lifecycle")),
    ],
)
def test_each_subscription_kind_loads(tmp_path: Path, table: str, expected: Any) -> None:
    """Every ``[[subscription]]`` kind parses into its own model."""
    m = load_manifest(write(tmp_path, PYTHON_MODULE + "[[subscription]]\n" + table + "\n"))
    assert [expected] == m.subscription


def test_tick_label_names_the_schedule_or_the_interval() -> None:
    """The tick label is what tick events carry as their ``schedule``."""
    assert "0 * * * *" == TickSubscription(kind="tick", schedule="0 * * * *").label
    assert "every 30s" == TickSubscription(kind="tick", every="30s").label


# errors: file and key path -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "location", "detail"),
    [
        (
            '[capabilities]\nrequired = ["store", "network"]',
            "capabilities.required[1]",
            "'network'",
        ),
        ('[capabilities]\noptional = ["teleport"]', "capabilities.optional[0]", "'teleport'"),
        ('[resources]\ntimeout = "soon"', "resources.timeout", "'soon'"),
        ('[resources]\nmemory = "lots"', "resources.memory", "'lots'"),
        ('[resources]\nstate = "1.5MiB"', "resources.state", "'1.5MiB'"),
        ("[resources]\nfuel = 0", "resources.fuel", "greater than 0"),
        ("[resources]\nhost_calls = -1", "resources.host_calls", "greater than 0"),
        ("[restart]\nmax_failures = 0", "restart.max_failures", "greater than or equal to 1"),
        ('[restart]\nbackoff_max = "forever"', "restart.backoff_max", "'forever'"),
        (
            '[capabilities]\nrequired = ["http"]\n[capabilities.http]\nallow = "x"',
            "capabilities.http.allow",
            "list",
        ),
        ("[[subscription]]\nkind = 'block'", "subscription[0].chain_id", "required key is missing"),
        (
            "[[subscription]]\nkind = 'block'\nchain_id = 0",
            "subscription[0].chain_id",
            "greater than 0",
        ),
        (
            "[[subscription]]\nkind = 'log'\nchain_id = 1\naddress = 5",
            "subscription[0].address",
            "5",
        ),
        (
            "[[subscription]]\nkind = 'log'\nchain_id = 1\ntopics = [7]",
            "subscription[0].topics[0]",
            "7",
        ),
        ("[[subscription]]\nkind = 'webhook'\npath = 'hooks'", "subscription[0].path", "'hooks'"),
        ("[[subscription]]\nkind = 'custom'\nname = ''", "subscription[0].name", "at least 1"),
        ("[[subscription]]\nkind = 'teleport'", "subscription[0]", "'teleport'"),
        ("[[subscription]]\nname = 'x'", "subscription[0]", "'kind'"),
        (
            "[[subscription]]\nkind = 'lifecycle'\n[[subscription]]\nkind = 'block'",
            "subscription[1].chain_id",
            "missing",
        ),
    ],
)
def test_errors_name_the_file_and_the_key_path(
    tmp_path: Path, body: str, location: str, detail: str
) -> None:
    """Each problem is reported as ``<file>: ...`` then ``  <key path>: <what is wrong>``.

    A value that fits no member of a union gets one line per member, at the same path.
    """
    message = load_error(tmp_path, PYTHON_MODULE + body + "\n")
    lines = [line for line in message.splitlines() if line.startswith(f"  {location}: ")]
    assert lines, message
    assert all(detail in line for line in lines), message


@pytest.mark.parametrize(
    ("module_lines", "location"),
    [
        ('name = "Counter"\nkind = "python"\nentry = "a:B"', "module.name"),
        ('name = "9lives"\nkind = "python"\nentry = "a:B"', "module.name"),
        ('name = "m"\nkind = "java"', "module.kind"),
        ('kind = "python"\nentry = "a:B"', "module.name"),
        ('name = "m"\nkind = "wasm"\ncomponent = "m.wasm"\nsha256 = "md5:abc"', "module.sha256"),
    ],
)
def test_module_section_errors_name_the_key(
    tmp_path: Path, module_lines: str, location: str
) -> None:
    """Bad names, kinds and pins in [module] are reported at their key."""
    message = load_error(tmp_path, f"[module]\n{module_lines}\n")
    assert f"\n  {location}: " in message


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    """One load reports every problem, counted, each on its own line."""
    message = load_error(
        tmp_path,
        PYTHON_MODULE + '[resources]\ntimeout = "x"\nmemory = "y"\n',
    )
    assert "2 problem(s)" in message
    assert "\n  resources.timeout: " in message
    assert "\n  resources.memory: " in message


@pytest.mark.parametrize(
    ("text", "location"),
    [
        (WASM_MODULE + "colour = 1\n", "module.colour"),
        ("colour = 1\n" + PYTHON_MODULE, "colour"),
        (PYTHON_MODULE + "[capabilities]\ncolour = 1\n", "capabilities.colour"),
        (
            PYTHON_MODULE
            + '[capabilities]\nrequired = ["http"]\n[capabilities.http]\ncolour = 1\n',
            "capabilities.http.colour",
        ),
        (
            PYTHON_MODULE
            + '[capabilities]\nrequired = ["messaging"]\n[capabilities.messaging]\ncolour = 1\n',
            "capabilities.messaging.colour",
        ),
        (PYTHON_MODULE + "[capabilities.network]\nallow = []\n", "capabilities.network"),
        (PYTHON_MODULE + "[resources]\ncolour = 1\n", "resources.colour"),
        (PYTHON_MODULE + "[restart]\ncolour = 1\n", "restart.colour"),
        (PYTHON_MODULE + "[policy]\ndeny = []\n", "policy"),
        (PYTHON_MODULE + "[[subscriptions]]\nkind = 'lifecycle'\n", "subscriptions"),
    ]
    + [
        (PYTHON_MODULE + f"[[subscription]]\n{table}\ncolour = 1\n", "subscription[0].colour")
        for table in [
            "kind = 'block'\nchain_id = 1",
            "kind = 'log'\nchain_id = 1",
            "kind = 'tick'\nevery = '1s'",
            "kind = 'message'",
            "kind = 'webhook'\npath = '/x'",
            "kind = 'custom'\nname = 'x'",
            "kind = 'lifecycle'",
        ]
    ],
)
def test_unknown_keys_are_errors_at_every_level(tmp_path: Path, text: str, location: str) -> None:
    """A misspelt key is an error at its own path, never silently ignored."""
    message = load_error(tmp_path, text)
    assert f"\n  {location}: unknown key" in message


def test_root_is_not_a_manifest_key(tmp_path: Path) -> None:
    """``root`` is set by the loader; writing it in the file is an unknown key."""
    message = load_error(tmp_path, 'root = "/etc"\n' + PYTHON_MODULE)
    assert "root: unknown key" in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error reports the file and the line it is on."""
    message = load_error(tmp_path, PYTHON_MODULE + "broken = \n")
    assert "not valid TOML" in message
    assert "line 5" in message


def test_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    """A directory without cove.toml names the path it looked for."""
    with pytest.raises(ManifestError, match="file not found") as info:
        load_manifest(tmp_path)
    assert str(tmp_path / "cove.toml") in str(info.value)


def test_missing_module_section_is_reported(tmp_path: Path) -> None:
    """An empty manifest says [module] is missing."""
    message = load_error(tmp_path, "")
    assert "\n  module: required key is missing" in message


# kind-specific rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[module]\nname = "m"\nkind = "wasm"\n', "needs `component`"),
        (
            '[module]\nname = "m"\nkind = "wasm"\ncomponent = "m.wasm"\nentry = "a:B"\n',
            "`entry` is for",
        ),
        ('[module]\nname = "m"\nkind = "python"\n', "needs `entry`"),
        (
            '[module]\nname = "m"\nkind = "python"\nentry = "a:B"\ncomponent = "m.wasm"\n',
            "are for kind = 'wasm'",
        ),
        ('[module]\nname = "m"\nkind = "python"\nentry = "a.B"\n', "module.entry"),
    ],
)
def test_kind_specific_module_keys(tmp_path: Path, text: str, needle: str) -> None:
    """wasm modules need a component, python modules an entry, and not the other's keys."""
    message = load_error(tmp_path, text)
    assert needle in message
    assert "module" in message


@pytest.mark.parametrize(
    "config",
    [
        "[config.limits]\nmax = 3",
        "[config]\nlimits = { max = 3 }",
        "[[config.rules]]\nmatch = 'x'",
        "[config]\nmixed = [1, { a = 2 }]",
    ],
)
def test_wasm_module_rejects_nested_config_tables(tmp_path: Path, config: str) -> None:
    """A wasm module's config is flat (WIT config values); tables name the key."""
    message = load_error(tmp_path, WASM_MODULE + config + "\n")
    assert "config." in message
    assert "must be a string, integer, float, boolean or a list of those" in message


def test_capability_both_required_and_optional_is_an_error(tmp_path: Path) -> None:
    """A capability is either required or optional."""
    message = load_error(
        tmp_path,
        PYTHON_MODULE + '[capabilities]\nrequired = ["store"]\noptional = ["store"]\n',
    )
    assert "both required and optional: ['store']" in message


@pytest.mark.parametrize("capability", ["http", "messaging"])
def test_capability_settings_need_the_capability_declared(tmp_path: Path, capability: str) -> None:
    """[capabilities.http] without declaring http is a mistake worth reporting."""
    message = load_error(tmp_path, PYTHON_MODULE + f"[capabilities.{capability}]\n")
    assert f"'{capability}' is not in required/optional" in message


# tick subscriptions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    ["kind = 'tick'", "kind = 'tick'\nschedule = '* * * * *'\nevery = '1s'"],
)
def test_tick_needs_exactly_one_of_schedule_or_every(tmp_path: Path, table: str) -> None:
    """Neither or both of schedule/every is an error at the subscription."""
    message = load_error(tmp_path, PYTHON_MODULE + "[[subscription]]\n" + table + "\n")
    assert "\n  subscription[0]: " in message
    assert "exactly one of `schedule` or `every`" in message


@pytest.mark.parametrize("schedule", ["every minute", "61 * * * *", "* * *", ""])
def test_tick_schedule_must_be_valid_cron(tmp_path: Path, schedule: str) -> None:
    """An invalid cron expression is refused and quoted."""
    message = load_error(
        tmp_path,
        PYTHON_MODULE + f"[[subscription]]\nkind = 'tick'\nschedule = '{schedule}'\n",
    )
    assert f"not a valid cron expression: {schedule!r}" in message


def test_tick_every_must_be_a_duration(tmp_path: Path) -> None:
    """``every`` goes through the duration parser and its message."""
    message = load_error(
        tmp_path, PYTHON_MODULE + "[[subscription]]\nkind = 'tick'\nevery = 'often'\n"
    )
    assert "'often'" in message


# property: the loader only ever raises ManifestError ---------------------------------

VOCABULARY = sorted(schema_keys(Manifest))
WORDS = [
    "wasm", "python", "store", "http", "events", "logging", "block", "log", "tick", "message",
    "webhook", "custom", "lifecycle", "5s", "0ms", "1MiB", "*/5 * * * *", "x.wasm", "a:B",
    "/hook", "sha256:" + "0" * 64,
]  # fmt: skip

keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=6))
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.sampled_from(WORDS),
    st.text(max_size=10),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
tables = st.dictionaries(keys, toml_values, max_size=6)
manifest_like = st.fixed_dictionaries(
    {
        "module": st.fixed_dictionaries(
            {"name": st.sampled_from(["m", "Bad"]), "kind": st.sampled_from(["wasm", "python"])},
            optional={
                "component": st.sampled_from(["m.wasm", ""]),
                "entry": st.sampled_from(["a:B", "nope"]),
            },
        )
    },
    optional={
        "capabilities": tables,
        "resources": tables,
        "restart": tables,
        "config": tables,
        "subscription": st.lists(
            st.dictionaries(keys, toml_values, max_size=4).map(
                lambda d: d if "kind" in d else {"kind": "tick", **d}
            ),
            max_size=3,
        ),
    },
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.one_of(tables, manifest_like))
def test_random_toml_never_crashes_the_loader(tmp_path: Path, data: dict[str, Any]) -> None:
    """Whatever TOML a person writes, the loader returns a Manifest or raises ManifestError."""
    text = dump_toml(data)
    assert data == tomllib.loads(text)  # the generator writes the TOML we meant
    path = write(tmp_path, text)
    try:
        load_manifest(path)
    except ManifestError as exc:
        assert str(exc).startswith(f"{path}: ")


@pytest.mark.parametrize("key", ["fuel", "memory", "host_calls", "state"])
def test_booleans_are_not_numbers_in_resources(tmp_path: Path, key: str) -> None:
    """TOML `true` must not sneak in as the integer 1."""
    message = load_error(
        tmp_path,
        f'[module]\nname = "m"\nkind = "python"\nentry = "a:B"\n[resources]\n{key} = true\n',
    )
    assert f"resources.{key}: Input should be a valid integer" in message
