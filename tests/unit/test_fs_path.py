"""The file view's path codec: any state key is one segment and reads back as itself."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._control._fs_path import decode_name, encode_name, join_path, split_path
from cove.errors import FilePathError

_keys = st.text(st.characters(codec="utf-8"), max_size=40)


@given(_keys)
def test_every_key_round_trips_as_one_segment(key: str) -> None:
    segment = encode_name(key)
    assert "/" not in segment and segment not in ("", ".", "..")
    assert key == decode_name(segment)


@given(st.lists(_keys, min_size=1, max_size=5))
def test_a_path_of_names_round_trips(names: list[str]) -> None:
    assert names == split_path(join_path(names))
    assert names == split_path("/" + join_path(names) + "/")


@given(_keys)
def test_a_segment_survives_a_url_untouched(key: str) -> None:
    """No client normalizes it: httpx sends the path as written, dots and escapes included."""
    path = "/v1/fs/m/state/" + encode_name(key)
    assert path.encode() == httpx.URL("http://127.0.0.1" + path).raw_path
    assert key == decode_name(path.rsplit("/", 1)[1])
    assert urllib.parse.urlsplit("cove://m/state/" + encode_name(key)).path.endswith(
        encode_name(key)
    )


@pytest.mark.parametrize(
    ("key", "segment"),
    [("a/b", "a%2Fb"), ("..", "%2E%2E"), (".", "%2E"), ("", "%"), ("100%", "100%25"), ("ok", "ok")],
)
def test_the_names_that_are_no_plain_segment(key: str, segment: str) -> None:
    assert segment == encode_name(key)


@pytest.mark.parametrize("segment", ["%zz", "a%", "%4", "%ff"])
def test_a_malformed_segment_is_a_clear_error(segment: str) -> None:
    with pytest.raises(FilePathError) as raised:
        decode_name(segment)
    assert not raised.value.missing
    assert segment in str(raised.value)
