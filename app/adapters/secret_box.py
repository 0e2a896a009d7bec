from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet


class FernetSecretBox:
    """Authenticated encryption of PMS keys, keyed by the service's secret key."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ValueError("WRITEBACK_SECRET_KEY must be at least 16 characters")
        digest = hashlib.sha256(b"pms-credentials:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()
