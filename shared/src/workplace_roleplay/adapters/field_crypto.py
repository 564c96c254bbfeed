"""Application-level encryption of document fields: AES-256-GCM with a key ring.

``ct`` is ``urlsafe_b64(nonce[12] || ciphertext || tag[16])``. The associated data is the key id and
the caller's ``aad`` (document path and field), so neither the key id nor the location of a
ciphertext can be swapped without the tag failing. Random 96-bit nonces are safe for far more
messages per key than one rotation period will see (NIST SP 800-38D: 2^32 per key).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from workplace_roleplay.errors import ConfigurationError, DecryptionFailed, UnknownEncryptionKey
from workplace_roleplay.ports.cipher import Sealed

_NONCE = 12
_TAG = 16


class AesGcmFieldCipher:
    """The ``FieldCipher`` adapter: the primary key encrypts, every key of the ring decrypts."""

    def __init__(self, *, primary_kid: str, keys: Mapping[str, bytes]) -> None:
        if primary_kid not in keys:
            raise ConfigurationError(f"ALE primary key id {primary_kid!r} is not in the key ring")
        for kid, key in keys.items():
            if len(key) != 32:
                raise ConfigurationError(f"ALE key {kid!r} must be 32 bytes (AES-256)")
        self.primary_kid = primary_kid
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def encrypt(self, plaintext: str, *, aad: str) -> Sealed:
        nonce = os.urandom(_NONCE)
        body = self._ciphers[self.primary_kid].encrypt(nonce, plaintext.encode(), _aad(self.primary_kid, aad))
        return {"kid": self.primary_kid, "ct": base64.urlsafe_b64encode(nonce + body).decode("ascii")}

    def decrypt(self, sealed: Sealed, *, aad: str) -> str:
        kid = sealed.get("kid") if isinstance(sealed, Mapping) else None
        ct = sealed.get("ct") if isinstance(sealed, Mapping) else None
        if not isinstance(kid, str) or not isinstance(ct, str):
            raise DecryptionFailed("not an encrypted field (expected kid and ct)")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownEncryptionKey(f"no encryption key with id {kid!r} is configured (ALE_KEYS)")
        try:
            raw = base64.urlsafe_b64decode(ct.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise DecryptionFailed(f"ciphertext under key {kid!r} is not base64") from None
        if len(raw) < _NONCE + _TAG:
            raise DecryptionFailed(f"ciphertext under key {kid!r} is truncated")
        try:
            plain = cipher.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(kid, aad))
        except InvalidTag:
            raise DecryptionFailed(
                f"ciphertext under key {kid!r} failed authentication (wrong key, wrong place or tampered)"
            ) from None
        return plain.decode()

    def reencrypt(self, sealed: Sealed, *, aad: str) -> Sealed | None:
        if sealed.get("kid") == self.primary_kid:
            return None
        return self.encrypt(self.decrypt(sealed, aad=aad), aad=aad)


def _aad(kid: str, aad: str) -> bytes:
    return f"wr-ale-v1\x00{kid}\x00{aad}".encode()
