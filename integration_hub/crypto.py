"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (the first key encrypts, all decrypt).

`EncryptedTextField` stores only ciphertext; the plaintext lives in memory while it is used.
`credentials rotate` re-encrypts every value under the first key so an old key can be dropped.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any of the configured keys."""


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def fernet() -> MultiFernet:
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        # DEBUG without keys: derive one from SECRET_KEY so development still encrypts.
        digest = hashlib.sha256(settings.SECRET_KEY.encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    return _fernet_for(keys)


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS; "
            "was a key removed before `credentials rotate` ran?"
        ) from exc


def reencrypt(ciphertext: str) -> str:
    """The same plaintext, encrypted under the first key."""
    try:
        return fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("A stored secret cannot be decrypted for rotation.") from exc


class EncryptedTextField(models.TextField):
    """A text column that holds Fernet ciphertext; Python code sees the plaintext.

    Empty strings are stored as empty strings (there is nothing to hide and "is it set?"
    stays a cheap query).
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
