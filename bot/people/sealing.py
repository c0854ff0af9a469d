"""Keys derived from SECRET_KEY, and a person's GitHub tokens (`UserToken`) sealed with one of them.

Each key in SECRET_KEY (newest first) gives two keys by HKDF-SHA256 under different labels: one
encrypts user tokens at rest (AES-GCM), one signs the session cookie. Knowing one tells nothing
of the other, so a leaked cookie key opens no token. Sealed bytes name the key that sealed them
(a key id, also derived, never the key), so rotating SECRET_KEY ("new,old") keeps every stored
token readable until it is next written, under the new key. Anything that does not open exactly
(another key, a flipped bit, a row moved to another person) fails closed: `Unsealable`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.github.oauth import UserToken

# HKDF labels: one secret, separate keys for separate uses.
TOKEN_LABEL = b"session-bot/user-token-encryption/v1"
COOKIE_LABEL = b"session-bot/cookie-signing/v1"
KEY_ID_LABEL = b"session-bot/user-token-key-id/v1"

VERSION = b"\x01"
KEY_ID_SIZE = 8
NONCE_SIZE = 12  # AES-GCM's standard nonce, random per seal (2^32 seals per key stay far from a repeat)
HEADER_SIZE = len(VERSION) + KEY_ID_SIZE + NONCE_SIZE


class Unsealable(ValueError):
    """The bytes were not sealed by any current key for this context, or were changed since."""


def derive(secret: str, label: bytes) -> bytes:
    """32 bytes for one use (`label`) from a SECRET_KEY entry."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret.encode())


def cookie_keys(secret_keys: Sequence[str]) -> list[bytes]:
    """The cookie-signing keys, newest first: Flask's SECRET_KEY, then its SECRET_KEY_FALLBACKS."""
    return [derive(secret, COOKIE_LABEL) for secret in secret_keys]


class Sealer:
    """Seals with the newest key, opens with any. `context` binds sealed bytes to their owner (a user
    id): a row copied to another person's does not open."""

    def __init__(self, secret_keys: Sequence[str]):
        if not secret_keys:
            raise ValueError("sealing tokens needs SECRET_KEY")
        self._keys = [(derive(secret, KEY_ID_LABEL)[:KEY_ID_SIZE], AESGCM(derive(secret, TOKEN_LABEL)))
                      for secret in secret_keys]

    def seal(self, bundle: UserToken, context: bytes) -> bytes:
        """The bundle encrypted and authenticated under the newest key."""
        key_id, aead = self._keys[0]
        header = VERSION + key_id + os.urandom(NONCE_SIZE)
        plaintext = json.dumps(asdict(bundle), separators=(",", ":")).encode()
        return header + aead.encrypt(header[-NONCE_SIZE:], plaintext, header + context)

    def open(self, sealed: bytes, context: bytes) -> UserToken:
        """The bundle, or Unsealable if no current key opens these bytes for `context`."""
        header = bytes(sealed[:HEADER_SIZE])
        if len(sealed) <= HEADER_SIZE or header[:1] != VERSION:
            raise Unsealable("not a sealed token")
        key_id = header[1:1 + KEY_ID_SIZE]
        aead = next((aead for kid, aead in self._keys if kid == key_id), None)
        if aead is None:
            raise Unsealable("sealed under a key SECRET_KEY no longer lists")
        try:
            plaintext = aead.decrypt(header[-NONCE_SIZE:], bytes(sealed[HEADER_SIZE:]), header + context)
        except InvalidTag:
            raise Unsealable("sealed token does not authenticate") from None
        return _bundle(json.loads(plaintext))


def _bundle(fields: dict) -> UserToken:
    """Authenticated bytes are ours, so their shape is ours too; still, read only the known fields."""
    return UserToken(access_token=str(fields["access_token"]), refresh_token=fields.get("refresh_token"),
                       expires_at=fields.get("expires_at"), refresh_expires_at=fields.get("refresh_expires_at"))
