"""Every ``make ops`` command the runbook tells on-call to run exists and parses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tools.ops.cli import _parser

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "docs" / "runbook.md"
# The introduction's generic form (`<command> --env ...`) is not a command to run.
COMMANDS = sorted(
    {c for c in re.findall(r'make ops ARGS="([^"]+)"', RUNBOOK.read_text(encoding="utf-8")) if not c.startswith("<")}
)


def test_the_runbook_uses_the_ops_commands() -> None:
    used = {shlex.split(c)[0] for c in COMMANDS}
    assert {"status", "check", "rollback", "legacy", "switch", "adopt", "cache-clear", "session-cleanup"} <= used
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("command", COMMANDS)
def test_each_runbook_command_parses(command: str) -> None:
    # Placeholders such as <user_id> or <host> stand for values the on-call fills in.
    argv = [re.sub(r"<[^>]+>", "x", word) for word in shlex.split(command)]
    _parser().parse_args(argv)


def test_the_makefile_has_the_targets_the_runbook_names() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^stack: ", makefile, re.MULTILINE)
    assert re.search(r"^ops: ", makefile, re.MULTILINE)
    assert "$(ARGS)" in makefile
