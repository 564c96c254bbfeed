"""The emulator plugin fails loudly (never skips) and leaves no JVM behind; its reset empties the project."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.firestore_emulator import FirestoreEmulator, FirestoreEmulatorSettings, start_emulator
from workplace_roleplay.adapters.firestore_store import FirestoreDocumentStore

pytestmark = pytest.mark.integration


def _java_processes_on_port(port: int) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended while we looked
        if f"--port={port}".encode() in args:
            found.append(cmdline.parent.name)
    return found


def test_a_missing_emulator_jar_fails_naming_the_emulator(tmp_path: Path) -> None:
    settings = FirestoreEmulatorSettings(FIRESTORE_EMULATOR_SDK_ROOT=str(tmp_path / "no-sdk"))
    with pytest.raises(pytest.fail.Exception, match=r"Firestore emulator: .*cloud-firestore-emulator\.jar is missing"):
        start_emulator(tmp_path, settings)


def test_missing_java_fails_naming_the_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"Firestore emulator: java is not on PATH"):
        start_emulator(tmp_path, FirestoreEmulatorSettings())


def test_an_emulator_that_does_not_start_in_time_fails_and_its_jvm_is_killed(tmp_path: Path) -> None:
    settings = FirestoreEmulatorSettings(FIRESTORE_EMULATOR_START_TIMEOUT_S=0.001)
    with pytest.raises(pytest.fail.Exception, match=r"Firestore emulator: did not start on port \d+") as failure:
        start_emulator(tmp_path, settings)
    port = re.search(r"port (\d+)", str(failure.value))
    assert port is not None
    assert _java_processes_on_port(int(port.group(1))) == []


async def test_reset_deletes_every_document_of_the_project(firestore_emulator: FirestoreEmulator) -> None:
    store = FirestoreDocumentStore.build(
        project=firestore_emulator.project, database="(default)", emulator_host=firestore_emulator.address
    )
    try:
        await store.set("users/u1", {"a": 1})
        await store.set("users/u1/conversations/c1", {"b": 2})
        firestore_emulator.reset()
        assert await store.get("users/u1") is None
        assert await store.get("users/u1/conversations/c1") is None
    finally:
        await store.close()
