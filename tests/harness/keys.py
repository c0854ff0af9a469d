"""The GitHub App's key: made here once for tests and benchmarks alike."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class AppKey:
    """The GitHub App's private key as GitHub hands it out (PKCS#1 PEM), and its public half."""

    pem: str
    public_pem: bytes


def make_app_key() -> AppKey:
    """A fresh 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, as GitHub
                            serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return AppKey(pem, public_pem)
