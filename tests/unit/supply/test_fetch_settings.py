"""Engine config ``[fetch]`` as the resolver gets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import load_config
from cove._cache_dir import content_store_dir
from cove._supply._component import resolver_for
from cove.errors import ConfigError


def test_fetch_keys_reach_the_resolver_with_the_store_relative_to_the_config(
    tmp_path: Path,
) -> None:
    config = tmp_path / "engine.toml"
    config.write_text(
        '[fetch]\nstore = "blobs"\ntimeout = "2s"\nmax_size = "1MiB"\n'
        'ipfs_gateway = "http://127.0.0.1:8080"\n'
    )
    resolver = resolver_for(load_config(config))
    assert resolver.store.root == tmp_path / "blobs"
    assert (resolver.limits.timeout_s, resolver.limits.max_bytes) == (2.0, 1 << 20)
    assert resolver.limits.ipfs_gateway == "http://127.0.0.1:8080"


def test_by_default_the_store_is_the_users_and_the_cap_256_mib(tmp_path: Path) -> None:
    config = tmp_path / "engine.toml"
    config.write_text("")
    resolver = resolver_for(load_config(config))
    assert resolver.store.root == content_store_dir()
    assert (resolver.limits.timeout_s, resolver.limits.max_bytes) == (60.0, 256 << 20)


def test_a_gateway_that_is_not_a_url_is_refused_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "engine.toml"
    config.write_text('[fetch]\nipfs_gateway = "ipfs.io"\n')
    with pytest.raises(ConfigError, match=r"fetch.ipfs_gateway"):
        load_config(config)
