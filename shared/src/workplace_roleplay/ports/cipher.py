"""The field-encryption port (ALE): authenticated encryption with a key id beside every ciphertext.

A sealed value is stored as ``{"kid": "<key id>", "ct": "<base64>"}``. ``aad`` binds it to where it
lives (document path and field), so a ciphertext copied to another document does not decrypt.
"""

from __future__ import annotations

from typing import Protocol, TypedDict


class Sealed(TypedDict):
    """An encrypted field as stored."""

    kid: str
    ct: str


class FieldCipher(Protocol):
    """Encrypts under the primary key; decrypts under any key of the ring."""

    primary_kid: str

    def encrypt(self, plaintext: str, *, aad: str) -> Sealed: ...

    def decrypt(self, sealed: Sealed, *, aad: str) -> str:
        """The plaintext; raises ``UnknownEncryptionKey`` or ``DecryptionFailed``, never garbage."""
        ...

    def reencrypt(self, sealed: Sealed, *, aad: str) -> Sealed | None:
        """The value sealed under the primary key, or None when it already is."""
        ...
