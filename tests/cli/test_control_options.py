"""Control commands offer --json only where they print something a script could read."""

from __future__ import annotations

from click.testing import CliRunner

from cove._cli._main import cli


def help_of(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert 0 == result.exit_code, result.output
    return result.output


def test_a_mount_takes_no_json_flag() -> None:
    assert "--json" not in help_of("fs", "mount")
    assert "--token-file" in help_of("fs", "mount")


def test_reading_commands_keep_their_json_flag() -> None:
    for command in (("fs", "cat"), ("fs", "ls"), ("module", "list")):
        assert "--json" in help_of(*command), command
