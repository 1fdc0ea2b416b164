"""The record a loopback control plane leaves for the CLI, and the token file made on first run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from cove._config_operator import ControlSettings
from cove._control._auth import create_token_file
from cove._local_engines import remove_record, token_file_for, write_record


@pytest.fixture(autouse=True)
def _state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVE_STATE_DIR", str(tmp_path / "state"))


def test_the_cli_finds_the_token_file_a_loopback_engine_recorded(tmp_path: Path) -> None:
    token = tmp_path / "token"
    path = write_record("127.0.0.1", 8788, "http://127.0.0.1:8788", token)
    assert path is not None
    assert token == token_file_for("http://127.0.0.1:8788")
    assert token == token_file_for("http://localhost:8788/")
    assert None is token_file_for("http://127.0.0.1:8789")
    remove_record(path)
    assert None is token_file_for("http://127.0.0.1:8788")


def test_no_record_for_an_engine_off_loopback_nor_a_lookup_for_a_remote_url(
    tmp_path: Path,
) -> None:
    assert None is write_record("0.0.0.0", 8788, "http://0.0.0.0:8788", tmp_path / "token")
    write_record("127.0.0.1", 8788, "http://127.0.0.1:8788", tmp_path / "token")
    assert None is token_file_for("http://engine.example:8788")
    assert None is token_file_for("http://127.0.0.1:notaport")


def test_a_record_another_engine_replaced_is_left_alone(tmp_path: Path) -> None:
    path = write_record("127.0.0.1", 8788, "http://127.0.0.1:8788", tmp_path / "token")
    assert path is not None
    path.write_text('{"url": "x", "token_file": "/other", "pid": -1}')
    remove_record(path)
    assert Path("/other") == token_file_for("http://127.0.0.1:8788")


def test_the_token_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "control.token"
    assert create_token_file(path)
    first = path.read_text()
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    assert len(first.strip()) >= 40
    assert not create_token_file(path)
    assert first == path.read_text()


def test_create_token_needs_a_token_file() -> None:
    with pytest.raises(ValidationError, match="create_token needs token_file"):
        ControlSettings(create_token=True)
