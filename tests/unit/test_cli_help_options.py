"""Each `mlplane` subcommand's --help lists only the options it uses: --host and --port bind the API, so
only `up` and `api` take them; a worker, a pipeline consumer or a Cloud Run ingest task refuses them
rather than accepting a bind address it never binds."""

from __future__ import annotations

import re

import pytest

from entrypoints.cli import main

SERVES_API = [["up"], ["api"]]
BINDS_NOTHING = [["worker"], ["inference", "demo"], ["ingest-task", "--plan", "ing_1"]]


def help_options(command: list[str], capsys: pytest.CaptureFixture[str]) -> set[str]:
    with pytest.raises(SystemExit) as stop:
        main([*command[:1], "--help"])
    assert stop.value.code == 0
    return set(re.findall(r"(?m)^\s+(--[a-z-]+)", capsys.readouterr().out))


@pytest.mark.parametrize("command", SERVES_API, ids=lambda c: c[0])
def test_the_api_commands_take_a_bind_address(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert {"--host", "--port", "--profile", "--data-dir"} <= help_options(command, capsys)


@pytest.mark.parametrize("command", BINDS_NOTHING, ids=lambda c: c[0])
def test_commands_that_bind_no_port_neither_list_nor_take_host_and_port(
        command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    options = help_options(command, capsys)
    assert "--host" not in options and "--port" not in options
    assert {"--profile", "--data-dir"} <= options
    for option in ("--host", "--port"):
        with pytest.raises(SystemExit) as stop:
            main([*command, option, "1"])
        assert stop.value.code == 2  # a usage error before anything starts
        assert f"unrecognized arguments: {option} 1" in capsys.readouterr().err


def help_text(command: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    assert stop.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps the epilog


def test_each_client_command_explains_its_own_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    train = help_text(["train"], capsys)
    assert "1 the job ended failed or cancelled (--follow)" in train and "replay" not in train
    assert "2 could not do the work" in train and "event stream was lost" in train
    replay = help_text(["stream", "replay"], capsys)
    assert "refused a replayed batch" in replay and "job" not in replay
    assert "replay" not in help_text(["ingest"], capsys)
