"""Ed25519 signatures over seals (optional: the `sign` extra, `cryptography`, imported only when used).

The private key comes from annexa.yaml's ``seal.signing_key`` (PEM text, usually ``${ANNEXA_SIGNING_KEY}``,
or a path to a PEM file). It is held in memory for the run, registered with the redaction so no line
can carry it, and never written anywhere: the store keeps the signature and the key's fingerprint.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import redact
from .seal import fingerprint

Signer = Callable[[str], tuple[str, str]]  # seal -> (signature base64, key fingerprint)


class SigningError(Exception):
    """A key that cannot be used: one line naming where it came from."""


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise SigningError("signing seals needs the `cryptography` package: pip install 'annexa[sign]'") from None
    return serialization, ed25519


def _raw_public(public_key: Any) -> bytes:
    serialization, _ = _crypto()
    raw: bytes = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw


def load_signer(value: str, origin: str, base: Path | None = None) -> Signer:
    """A signer from PEM text or a PEM file path, relative to ``base`` (the directory of annexa.yaml);
    ``origin`` names the setting in messages."""
    serialization, ed25519 = _crypto()
    text = value.strip()
    if not text.startswith("-----BEGIN"):
        path = Path(os.path.expanduser(text))
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            text = path.read_text()
        except OSError as exc:
            raise SigningError(f"{origin}: cannot read the signing key file {path}: {exc.strerror}") from None
    redact.add([text])
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{origin}: not an unencrypted PEM private key ({type(exc).__name__})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningError(f"{origin}: the signing key must be Ed25519 (`annexa keygen` writes one)")
    key_id = fingerprint(_raw_public(key.public_key()))

    def sign(seal: str) -> tuple[str, str]:
        return base64.b64encode(key.sign(seal.encode("ascii"))).decode("ascii"), key_id

    return sign


@dataclass(frozen=True)
class PublicKey:
    key: Any
    key_id: str

    def verifies(self, seal: str, signature: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self.key.verify(base64.b64decode(signature), seal.encode("ascii"))
        except (InvalidSignature, ValueError):
            return False
        return True


def load_public_key(path: Path) -> PublicKey:
    serialization, ed25519 = _crypto()
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise SigningError(f"cannot read the public key {path}: {exc.strerror}") from None
    except ValueError:
        raise SigningError(f"{path} is not a PEM public key") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SigningError(f"{path} is not an Ed25519 public key")
    return PublicKey(key, fingerprint(_raw_public(key)))


def write_key_pair(private_path: Path, public_path: Path) -> str:
    """A new Ed25519 pair: the private key readable by its owner only. Refuses to overwrite either file."""
    serialization, ed25519 = _crypto()
    for path in (private_path, public_path):
        if path.exists():
            raise SigningError(f"{path} exists: keygen never overwrites a key")
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    return fingerprint(_raw_public(key.public_key()))
