"""The ops commands on a fixture copy of a cloud environment: the traffic file and the printed apply."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.redis_server import free_port
from tools.ops.cli import FAILED, REFUSED, run
from tools.ops.settings import OpsSettings
from tools.ops.traffic import TrafficFile

REPO = Path(__file__).resolve().parents[2]


def traffic(root: Path, env: str = "prod") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / env / "traffic.auto.tfvars.json").read_text())
    return data


def test_status_prints_every_catalog_service(ops_settings: OpsSettings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["status", "--env", "prod"], ops_settings) == 0
    out = capsys.readouterr().out
    for name in ("chat", "scenario", "watch", "migrate_session"):
        assert f"\n{name} " in out
    assert "legacy_fallback: off" in out


def test_canary_edits_only_that_service_and_prints_terraform(
    ops_settings: OpsSettings, env_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = traffic(env_root)
    code = run(["canary", "chat", "10", "--revision", "chat-00042-abc", "--env", "prod"], ops_settings)
    assert code == 0
    after = traffic(env_root)
    assert after["traffic"]["chat"] == {
        "stable_revision": before["traffic"]["chat"]["stable_revision"],
        "candidate_revision": "chat-00042-abc",
        "candidate_percent": 10,
        "legacy_percent": before["traffic"]["chat"]["legacy_percent"],
    }
    assert {k: v for k, v in after["traffic"].items() if k != "chat"} == {
        k: v for k, v in before["traffic"].items() if k != "chat"
    }
    out = capsys.readouterr().out
    assert f"to apply:  terraform -chdir={env_root / 'prod'} apply -input=false" in out
    stable = before["traffic"]["chat"]["stable_revision"]
    assert f"--to-revisions={stable}=90,chat-00042-abc=10" in out
    # Other environments are untouched.
    assert traffic(env_root, "staging")["traffic"]["chat"]["candidate_revision"] is None


def test_canary_then_raise_then_promote(ops_settings: OpsSettings, env_root: Path) -> None:
    assert run(["canary", "chat", "5", "--revision", "chat-new", "--env", "dev"], ops_settings) == 0
    assert run(["canary", "chat", "50", "--env", "dev"], ops_settings) == 0  # same candidate, more traffic
    assert traffic(env_root, "dev")["traffic"]["chat"]["candidate_percent"] == 50
    assert run(["promote", "chat", "--env", "dev"], ops_settings) == 0
    chat = traffic(env_root, "dev")["traffic"]["chat"]
    assert chat["stable_revision"] == "chat-new"
    assert chat["candidate_revision"] is None
    assert chat["candidate_percent"] == 0


def test_rollback_drops_the_candidate(ops_settings: OpsSettings, env_root: Path) -> None:
    stable = traffic(env_root)["traffic"]["watch"]["stable_revision"]
    assert run(["canary", "watch", "25", "--revision", "watch-bad", "--env", "prod"], ops_settings) == 0
    assert run(["rollback", "watch", "--env", "prod"], ops_settings) == 0
    watch = traffic(env_root)["traffic"]["watch"]
    assert (watch["stable_revision"], watch["candidate_revision"], watch["candidate_percent"]) == (stable, None, 0)


def test_rollback_to_a_named_revision_undoes_a_promotion(ops_settings: OpsSettings, env_root: Path) -> None:
    old = traffic(env_root)["traffic"]["scenario"]["stable_revision"]
    assert run(["canary", "scenario", "100", "--revision", "scenario-v2", "--env", "prod"], ops_settings) == 0
    assert run(["promote", "scenario", "--env", "prod"], ops_settings) == 0
    assert run(["rollback", "scenario", "--to", old, "--env", "prod"], ops_settings) == 0
    assert traffic(env_root)["traffic"]["scenario"]["stable_revision"] == old


def test_legacy_on_and_off(ops_settings: OpsSettings, env_root: Path) -> None:
    assert run(["legacy", "on", "--env", "staging"], ops_settings) == 0
    assert traffic(env_root, "staging")["legacy_fallback"] is True
    assert run(["legacy", "on", "--env", "staging"], ops_settings) == REFUSED  # already on
    assert run(["legacy", "off", "--env", "staging"], ops_settings) == 0
    assert traffic(env_root, "staging")["legacy_fallback"] is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["canary", "chat", "101", "--revision", "x"], "between 0 and 100"),
        (["canary", "chat", "-1", "--revision", "x"], "between 0 and 100"),
        (["canary", "billing", "10", "--revision", "x"], "unknown service 'billing'"),
        (["canary", "chat", "10"], "pass --revision"),
        (["promote", "chat"], "no candidate revision to promote"),
        (["rollback", "chat"], "no canary in flight"),
        (["promote", "nosuch"], "unknown service"),
    ],
)
def test_invalid_or_unsafe_requests_are_refused_and_change_nothing(
    ops_settings: OpsSettings, env_root: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = (env_root / "prod" / "traffic.auto.tfvars.json").read_bytes()
    assert run([*argv, "--env", "prod"], ops_settings) == REFUSED
    assert message in capsys.readouterr().err
    assert (env_root / "prod" / "traffic.auto.tfvars.json").read_bytes() == before


def test_second_canary_while_one_is_in_flight_is_refused(
    ops_settings: OpsSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["canary", "chat", "10", "--revision", "chat-a", "--env", "prod"], ops_settings) == 0
    assert run(["canary", "chat", "10", "--revision", "chat-b", "--env", "prod"], ops_settings) == REFUSED
    assert "another canary is in flight" in capsys.readouterr().err


def test_promoting_a_dark_candidate_needs_force(ops_settings: OpsSettings, env_root: Path) -> None:
    assert run(["canary", "chat", "0", "--revision", "chat-dark", "--env", "prod"], ops_settings) == 0
    assert run(["promote", "chat", "--env", "prod"], ops_settings) == REFUSED
    assert run(["promote", "chat", "--force", "--env", "prod"], ops_settings) == 0
    assert traffic(env_root)["traffic"]["chat"]["stable_revision"] == "chat-dark"


def test_a_corrupt_traffic_file_is_refused(ops_settings: OpsSettings, env_root: Path) -> None:
    path = env_root / "prod" / "traffic.auto.tfvars.json"
    data = traffic(env_root)
    data["traffic"]["chat"]["candidate_percent"] = 30  # a share without a candidate revision
    path.write_text(json.dumps(data))
    assert run(["canary", "scenario", "10", "--revision", "s2", "--env", "prod"], ops_settings) == REFUSED
    del data["traffic"]["chat"]
    path.write_text(json.dumps(data))
    assert run(["status", "--env", "prod"], ops_settings) == REFUSED


def fake_terraform(tmp_path: Path, exit_code: int) -> Path:
    """A stand-in terraform binary that records its arguments (the real one needs the Google provider)."""
    script = tmp_path / "terraform"
    record = tmp_path / "terraform.args"
    script.write_text(f'#!/bin/sh\necho "$@" > {record}\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_apply_runs_terraform_in_the_environment_root(env_root: Path, tmp_path: Path) -> None:
    settings = OpsSettings(OPS_TERRAFORM_ROOT=env_root, OPS_TERRAFORM_BIN=str(fake_terraform(tmp_path, 0)))
    assert run(["legacy", "on", "--env", "prod", "--apply", "--auto-approve"], settings) == 0
    args = (tmp_path / "terraform.args").read_text().split()
    assert args == [f"-chdir={env_root / 'prod'}", "apply", "-input=false", "-auto-approve"]


def test_a_failing_apply_is_reported_as_failed(env_root: Path, tmp_path: Path) -> None:
    settings = OpsSettings(OPS_TERRAFORM_ROOT=env_root, OPS_TERRAFORM_BIN=str(fake_terraform(tmp_path, 1)))
    assert run(["legacy", "on", "--env", "prod", "--apply"], settings) == FAILED


def test_local_without_a_running_stack_is_refused(
    ops_settings: OpsSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["canary", "chat", "10", "--revision", "chat-candidate", "--env", "local"], ops_settings) == REFUSED
    assert "make stack" in capsys.readouterr().err


def terraform_with_outputs(tmp_path: Path, latest: dict[str, str]) -> Path:
    """A stand-in terraform answering ``output -json latest_created_revisions`` and recording applies."""
    script = tmp_path / "terraform"
    record = tmp_path / "terraform.args"
    script.write_text(
        "#!/bin/sh\n"
        f"if [ \"$2\" = output ]; then echo '{json.dumps(latest)}'; exit 0; fi\n"
        f'echo "$@" >> {record}\nexit 0\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_adopt_makes_the_newest_revisions_stable(env_root: Path, tmp_path: Path) -> None:
    before = traffic(env_root)["traffic"]
    latest = {name: t["stable_revision"] for name, t in before.items()}
    latest["chat"] = "chat-00007-swi"
    latest["watch"] = "watch-00003-swi"
    settings = OpsSettings(OPS_TERRAFORM_ROOT=env_root, OPS_TERRAFORM_BIN=str(terraform_with_outputs(tmp_path, latest)))
    assert run(["adopt", "--env", "prod", "--apply", "--auto-approve"], settings) == 0
    after = traffic(env_root)["traffic"]
    assert {name: t["stable_revision"] for name, t in after.items()} == latest
    assert (tmp_path / "terraform.args").read_text().split()[1] == "apply"


def test_adopt_is_refused_while_a_canary_is_in_flight(env_root: Path, tmp_path: Path) -> None:
    latest = {name: f"{name}-new" for name in traffic(env_root)["traffic"]}
    settings = OpsSettings(OPS_TERRAFORM_ROOT=env_root, OPS_TERRAFORM_BIN=str(terraform_with_outputs(tmp_path, latest)))
    assert run(["canary", "chat", "10", "--revision", "chat-c", "--env", "prod"], settings) == 0
    before = traffic(env_root)
    assert run(["adopt", "--env", "prod"], settings) == REFUSED
    assert run(["adopt", "scenario", "--env", "prod"], settings) == 0  # another service is fine
    assert traffic(env_root)["traffic"]["chat"] == before["traffic"]["chat"]
    assert traffic(env_root)["traffic"]["scenario"]["stable_revision"] == "scenario-new"


def test_check_fails_when_nothing_answers(ops_settings: OpsSettings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", "--env", "prod", "--base-url", f"http://127.0.0.1:{free_port()}"], ops_settings) == FAILED
    assert "not ready: chat, scenario, watch, migrate_session" in capsys.readouterr().err


def test_check_of_a_cloud_environment_needs_its_url(ops_settings: OpsSettings) -> None:
    assert run(["check", "--env", "prod"], ops_settings) == REFUSED


@pytest.mark.parametrize(
    "argv",
    [
        ["canary", "chat", "10", "--revision", "scenario-00042-abc"],
        ["canary", "migrate_session", "10", "--revision", "migrate_session-1"],
        ["rollback", "watch", "--to", "legacy-1"],
    ],
)
def test_revisions_must_carry_the_cloud_run_service_name(
    ops_settings: OpsSettings, env_root: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    before = (env_root / "prod" / "traffic.auto.tfvars.json").read_bytes()
    assert run([*argv, "--env", "prod"], ops_settings) == REFUSED
    assert "must start with the Cloud Run service name" in capsys.readouterr().err
    assert (env_root / "prod" / "traffic.auto.tfvars.json").read_bytes() == before


def test_migrate_session_canary_uses_its_cloud_run_name(ops_settings: OpsSettings, env_root: Path) -> None:
    argv = ["canary", "migrate_session", "5", "--revision", "migrate-session-00009-xyz", "--env", "prod"]
    assert run(argv, ops_settings) == 0
    assert traffic(env_root)["traffic"]["migrate_session"]["candidate_revision"] == "migrate-session-00009-xyz"


def test_legacy_share_moves_one_service_back_to_legacy(ops_settings: OpsSettings, env_root: Path) -> None:
    before = traffic(env_root)["traffic"]
    assert run(["legacy-share", "watch", "100", "--env", "prod"], ops_settings) == 0
    after = traffic(env_root)["traffic"]
    assert after["watch"]["legacy_percent"] == 100
    assert {k: v for k, v in after.items() if k != "watch"} == {k: v for k, v in before.items() if k != "watch"}
    assert run(["legacy-share", "watch", "100", "--env", "prod"], ops_settings) == REFUSED  # no change
    assert run(["legacy-share", "watch", "150", "--env", "prod"], ops_settings) == REFUSED
    assert run(["legacy-share", "watch", "0", "--env", "prod"], ops_settings) == 0


def test_concurrent_commands_on_one_environment_wait_for_each_other(env_root: Path) -> None:
    """A second on-call engineer's command waits for the first instead of interleaving edits."""
    names = list(traffic(env_root)["traffic"])
    held = TrafficFile(env_root / "prod" / "traffic.auto.tfvars.json", names)
    env = {**os.environ, "OPS_TERRAFORM_ROOT": str(env_root)}
    argv = [sys.executable, "-m", "tools.ops", "canary", "chat", "10", "--revision", "chat-x", "--env", "prod"]
    with held.locked():
        waiting = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        assert waiting.poll() is None, "the command did not wait for the lock"
        assert traffic(env_root)["traffic"]["chat"]["candidate_revision"] is None
    assert waiting.wait(timeout=30) == 0
    assert traffic(env_root)["traffic"]["chat"]["candidate_revision"] == "chat-x"
    assert not [p.name for p in (env_root / "prod").iterdir() if p.name.startswith(".")], "no stray files"


def test_commands_write_only_the_environments_own_files_and_keep_the_shared_root(
    ops_settings: OpsSettings, env_root: Path
) -> None:
    """The traffic and switch files are per environment; the linked root definition is never written."""
    shared = {p.name: p.read_bytes() for p in (env_root / "_root").iterdir()}
    assert run(["canary", "chat", "10", "--revision", "chat-00042-abc", "--env", "prod"], ops_settings) == 0
    assert run(["switch", "MODEL_FORCE_SIMPLE", "on", "--env", "prod"], ops_settings) == 0
    assert run(["legacy", "on", "--env", "prod"], ops_settings) == 0
    assert {p.name: p.read_bytes() for p in (env_root / "_root").iterdir()} == shared
    prod = env_root / "prod"
    assert sorted(p.name for p in prod.iterdir() if p.is_symlink()) == sorted(shared)
    assert all(os.readlink(prod / name) == f"../_root/{name}" for name in shared)
    assert {p.name for p in prod.iterdir() if not p.is_symlink()} == {
        "backend.tf",
        "terraform.tfvars",
        "traffic.auto.tfvars.json",
        "switches.auto.tfvars.json",
    }
