"""Encrypted document fields: the ``TextSealer`` over the ALE cipher, and key-rotation re-encryption.

Repositories seal sensitive text (message content, memories, report text) with a context naming
where it lives; the store adapters only ever see ``{"kid": ..., "ct": ...}`` maps.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from workplace_roleplay.errors import DecryptionFailed, EncryptionError
from workplace_roleplay.ports import DocumentStore, JsonValue, Transaction
from workplace_roleplay.ports.cipher import FieldCipher, Sealed

log = logging.getLogger("workplace_roleplay.encryption")

# Field name -> the sealing context of that field, from the document path. Repositories use the
# document path itself for message content (``context=f"{conv.path}/messages/{id}"``).
FieldContexts = Mapping[str, Callable[[str], str]]


def is_sealed(value: JsonValue) -> bool:
    return isinstance(value, dict) and isinstance(value.get("kid"), str) and isinstance(value.get("ct"), str)


class CipherSealer:
    """A ``TextSealer`` that encrypts with the ALE cipher and refuses anything it cannot authenticate."""

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    def seal(self, text: str, *, context: str) -> JsonValue:
        return dict(self.cipher.encrypt(text, aad=context))

    def open(self, value: JsonValue, *, context: str) -> str:
        if not is_sealed(value):
            raise DecryptionFailed(f"field at {context!r} is not encrypted")
        sealed: Sealed = {"kid": value["kid"], "ct": value["ct"]}
        return self.cipher.decrypt(sealed, aad=context)


@dataclass
class ReencryptionReport:
    """What one pass over a collection did."""

    scanned: int = 0
    rewritten: int = 0
    current: int = 0  # every sealed field already under the primary key
    failed: list[str] = field(default_factory=list)  # paths whose fields could not be decrypted


async def reencrypt_collection(
    store: DocumentStore, cipher: FieldCipher, collection: str, fields: FieldContexts
) -> ReencryptionReport:
    """Move every sealed field of ``collection`` to the primary key (run after a new key is primary).

    Each document is rewritten in its own transaction, so a concurrent writer never loses an update,
    and the pass is idempotent: run it again until ``rewritten`` is 0, then retire the old key.
    """
    report = ReencryptionReport()
    for snapshot in await store.query(collection):
        report.scanned += 1
        path = snapshot.path
        try:
            changed = await store.run_transaction(_rewriter(cipher, path, fields))
        except EncryptionError as exc:
            log.error("re-encryption failed", extra={"path": path, "error_code": exc.code})
            report.failed.append(path)
            continue
        if changed:
            report.rewritten += 1
        else:
            report.current += 1
    return report


def _rewriter(cipher: FieldCipher, path: str, fields: FieldContexts) -> Callable[[Transaction], Awaitable[bool]]:
    async def rewrite(tx: Transaction) -> bool:
        doc = await tx.get(path)
        if doc is None:
            return False
        updates: dict[str, JsonValue] = {}
        for name, context_of in fields.items():
            value = doc.get(name)
            if not isinstance(value, dict) or not is_sealed(value):
                continue
            sealed: Sealed = {"kid": value["kid"], "ct": value["ct"]}
            fresh = cipher.reencrypt(sealed, aad=context_of(path))
            if fresh is not None:
                updates[name] = dict(fresh)
        if updates:
            tx.update(path, updates)
        return bool(updates)

    return rewrite
