from django.conf import settings
from django.db import models

from integration_hub.crypto import EncryptedTextField

from .base import TimeStampedModel


class SystemSetting(TimeStampedModel):
    """A system setting that differs from its declared default.

    Keys and types are declared in code (integration_hub.system_settings); a row exists only
    once a value was set. Secret-valued settings use `secret_value` (ciphertext).
    """

    key = models.CharField(max_length=100, unique=True)
    value = models.TextField(blank=True)
    secret_value = EncryptedTextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class SettingsVersion(models.Model):
    """One row whose counter moves on every settings change, so each process sees it."""

    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"settings version {self.version}"
