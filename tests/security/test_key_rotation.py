"""Key rotation over a learner's whole record, written through the real conversation repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.clock import ManualClock
from tests.support.fakes import FakeStore
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.domain.conversation.ratings import Ratings
from workplace_roleplay.domain.conversation.records import ConversationRepository, Message, Role
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer
from workplace_roleplay.domain.identity.key_rotation import reencrypt_everything
from workplace_roleplay.domain.identity.users import USERS

K1, K2 = os.urandom(32), os.urandom(32)
ROOT = Path(__file__).resolve().parents[2]


async def test_every_sealed_field_moves_to_the_new_key_and_still_reads() -> None:
    store, clock = FakeStore(), ManualClock()
    old = CipherSealer(AesGcmFieldCipher(primary_kid="k1", keys={"k1": K1}))
    repo = ConversationRepository(store, clock, sealer=old)
    await store.set(f"{USERS}/u1", {"user_id": "u1", "kind": "anonymous"})
    conv = await repo.create("u1", mode="chat", settings={"partner": "課長"}, coaching=True)
    await repo.add_new(conv, Message(id="t1-l", role=Role.LEARNER, text="お疲れさまです。", created_at=1, turn_id="t1"))
    await repo.set_rolling_summary(conv, "挨拶をした。", through=1)
    await repo.update(conv, title="お疲れさまです。")
    await repo.set_analysis(conv, "t1-l", {"better_phrasing": "お疲れさまです、課長。"})
    reply = Message(id="t1-r", role=Role.COUNTERPART, text="お疲れさま。", created_at=2, turn_id="t1", model="m")
    await repo.add_new(conv, reply)
    await Ratings(store, clock, old).rate(conv, "reply", "t1-r", "up", "話しやすい")
    memory_path = f"{USERS}/u1/memories/m1"
    await store.set(memory_path, {"text": old.seal("紅茶が好き", context=memory_path)})
    report_path = f"{USERS}/u1/reports/r1"
    await store.set(report_path, {"report": old.seal('{"advice": "結論から"}', context=report_path)})

    ring = AesGcmFieldCipher(primary_kid="k2", keys={"k2": K2, "k1": K1})
    result = await reencrypt_everything(store, ring)
    assert result.users == 1
    assert result.failed == []
    # messages (content, analysis; the reply's content and rating reason), conversation (title, summary), memory,
    # report
    assert result.rewritten == 5
    assert (await reencrypt_everything(store, ring)).rewritten == 0

    new_only = CipherSealer(AesGcmFieldCipher(primary_kid="k2", keys={"k2": K2}))
    reader = ConversationRepository(store, clock, sealer=new_only)
    again = await reader.get("u1", conv.id)
    assert again.rolling_summary == "挨拶をした。"
    assert again.title == "お疲れさまです。"
    message, _ = await reader.messages(again)
    assert message.text == "お疲れさまです。"
    [rating] = await Ratings(store, clock, new_only).of(again)
    assert rating.reason == "話しやすい"
    assert message.analysis == {"better_phrasing": "お疲れさまです、課長。"}
    memory = await store.get(memory_path) or {}
    assert new_only.open(memory["text"], context=memory_path) == "紅茶が好き"
    report = await store.get(report_path) or {}
    assert new_only.open(report["report"], context=report_path) == '{"advice": "結論から"}'


def test_the_rotation_tool_runs_against_the_embedded_store(tmp_path: Path) -> None:
    import base64
    import json as jsonlib

    keys = {"k2": base64.b64encode(K2).decode(), "k1": base64.b64encode(K1).decode()}
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "DATA_DIR": str(tmp_path),
        "ALE_KEYS": jsonlib.dumps(keys),
        "ALE_PRIMARY_KID": "k2",
        "LOG_JSON": "false",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tools.rotate_ale_keys"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    report = jsonlib.loads(done.stdout)
    assert report["primary_kid"] == "k2"
    assert report["failed"] == []
