"""Kalshi's request signing: RSA-PSS over `timestamp + METHOD + path`.

Headers: `KALSHI-ACCESS-KEY` (the key id), `KALSHI-ACCESS-TIMESTAMP` (Unix milliseconds) and
`KALSHI-ACCESS-SIGNATURE`, the base64 of an RSA-PSS signature (SHA-256, MGF1-SHA-256, salt as long
as the digest) of `timestamp + METHOD + path`, the path without its query. The WebSocket
handshake signs `GET /trade-api/ws/v2`. `verify` is the other half, for the fake Kalshi.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pressbox.errors import ConfigError

WS_PATH = "/trade-api/ws/v2"
KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def signed_message(timestamp_ms: str, method: str, path: str) -> bytes:
    """What is signed: `1703123456789GET/trade-api/ws/v2` (no query string)."""
    return f"{timestamp_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


class KalshiSigner:
    """Signs requests with one API key."""

    def __init__(self, key_id: str, private_key: rsa.RSAPrivateKey) -> None:
        if not key_id:
            raise ConfigError("a Kalshi key id is required to sign requests")
        self.key_id = key_id
        self._key = private_key

    @classmethod
    def from_pem(cls, key_id: str, pem: bytes) -> KalshiSigner:
        """A signer from an unencrypted PEM private key (PKCS#1 or PKCS#8)."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ConfigError(f"the Kalshi private key is not a readable PEM key: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("the Kalshi private key must be an RSA key")
        return cls(key_id, key)

    @classmethod
    def from_file(cls, key_id: str, path: str | Path) -> KalshiSigner:
        """A signer from a PEM file; ConfigError names the file when it cannot be read."""
        try:
            pem = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the Kalshi private key {path}: {exc}") from exc
        return cls.from_pem(key_id, pem)

    def sign(self, message: bytes) -> str:
        """The base64 RSA-PSS signature of `message`."""
        return base64.b64encode(self._key.sign(message, _pss(), hashes.SHA256())).decode()

    def headers(self, method: str, path: str, now: datetime) -> dict[str, str]:
        """The three authentication headers of a request sent at `now`."""
        timestamp = str(int(now.timestamp() * 1000))
        return {
            KEY_HEADER: self.key_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: self.sign(signed_message(timestamp, method, path)),
        }


def configured_signer(key_id: str, private_key_path: str) -> KalshiSigner | None:
    """The signer of the configured key (`PRESSBOX_KALSHI_KEY_ID` and `_PRIVATE_KEY_PATH`), or
    None when no key is configured (the live feed then polls)."""
    if not key_id and not private_key_path:
        return None
    if not key_id or not private_key_path:
        raise ConfigError("a Kalshi key needs both its id and its private key file")
    return KalshiSigner.from_file(key_id, private_key_path)


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """An RSA public key from PEM; ValueError if it is not one."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def verify(
    public_key: rsa.RSAPublicKey, headers: Mapping[str, str], method: str, path: str
) -> str | None:
    """Check a request's authentication headers; None if valid, else why not."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not headers.get(KEY_HEADER) or not timestamp or not signature:
        return "missing authentication headers"
    if not timestamp.isdigit():
        return "the timestamp is not Unix milliseconds"
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, signed_message(timestamp, method, path), _pss(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return "invalid signature"
    return None
