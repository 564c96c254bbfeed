"""ALE key rotation over every sealed field of every learner (run after a new key becomes primary).

The plan names each sealed field and the context its repository seals it with; it must follow the
repositories (``conversation.py``, ``memory.py``, ``feedback.py``), and ``test_key_rotation`` writes
through the real repositories to keep the two in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from workplace_roleplay.domain.identity.encrypted_fields import FieldContexts, ReencryptionReport, reencrypt_collection
from workplace_roleplay.domain.identity.users import USERS
from workplace_roleplay.ports import DocumentStore
from workplace_roleplay.ports.cipher import FieldCipher


def _at_path(path: str) -> str:
    return path


def _suffixed(suffix: str) -> Callable[[str], str]:
    return lambda path: f"{path}{suffix}"


# Sub-collection under users/{uid} (or under each conversation) -> sealed fields and their contexts.
CONVERSATION_FIELDS: FieldContexts = {
    "rolling_summary": _suffixed("#summary"),
    "summary_report": _suffixed("#report"),
    "title": _suffixed("#title"),
}
MESSAGE_FIELDS: FieldContexts = {
    "content": _at_path,
    "analysis": _suffixed("#analysis"),
    "rating_reason": _suffixed("#rating"),  # domain/conversation/ratings.py
}
MEMORY_FIELDS: FieldContexts = {"text": _at_path, "embedding": _suffixed("#embedding")}
REPORT_FIELDS: FieldContexts = {"report": _at_path, "rating_reason": _suffixed("#rating")}


@dataclass
class RotationReport:
    """Totals of one pass over every learner."""

    users: int = 0
    scanned: int = 0
    rewritten: int = 0
    current: int = 0
    failed: list[str] = field(default_factory=list)

    def add(self, part: ReencryptionReport) -> None:
        self.scanned += part.scanned
        self.rewritten += part.rewritten
        self.current += part.current
        self.failed.extend(part.failed)


async def reencrypt_everything(store: DocumentStore, cipher: FieldCipher) -> RotationReport:
    """Move every sealed field of every learner to the primary key; idempotent, safe while serving."""
    report = RotationReport()
    for user in await store.query(USERS):
        report.users += 1
        base = user.path
        for conv in await store.query(f"{base}/conversations"):
            report.add(await reencrypt_collection(store, cipher, conv.path + "/messages", MESSAGE_FIELDS))
        report.add(await reencrypt_collection(store, cipher, f"{base}/conversations", CONVERSATION_FIELDS))
        report.add(await reencrypt_collection(store, cipher, f"{base}/memories", MEMORY_FIELDS))
        report.add(await reencrypt_collection(store, cipher, f"{base}/reports", REPORT_FIELDS))
    return report
