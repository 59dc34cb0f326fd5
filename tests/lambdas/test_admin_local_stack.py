"""The secretariat's commands against a running local stack, each a fresh process on a machine with no AWS settings
at all, as the README tells them to run it: nothing to configure beyond the --endpoint-url `serve` prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambdas import local
from tests.conftest import ROOT
from tests.e2e.test_serve import free_port

COMMANDS = [["recount"], ["report", "--out", "{out}"], ["export", "--out", "{out}", "--format", "csv"],
            ["snapshot", "--out", "{out}"], ["anomalies", "--out", "{out}"], ["rescore", "--dry-run"]]


@pytest.fixture(scope="module")
def running_stack(built_small: Path):
    with local.stack(built_small / "site", free_port()) as (stack, _server):
        yield stack


def _bare_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(home / "none"), AWS_SHARED_CREDENTIALS_FILE=str(home / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    return env


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_each_command_runs_against_the_local_stack_with_no_aws_settings(running_stack, built_small, tmp_path, command):
    argv = [part.format(out=tmp_path / "out") for part in command]
    result = subprocess.run(
        [sys.executable, "-m", "lambdas.admin", "--endpoint-url", running_stack.database_url, "--table",
         running_stack.table, "--site", str(built_small / "site"), *argv],
        env=_bare_environment(tmp_path), capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "NoRegionError" not in result.stderr and "Traceback" not in result.stderr
