from django.conf import settings
from django.db import models

from integration_hub.crypto import EncryptedTextField

from .base import TimeStampedModel

DEFAULT_CREDENTIAL_MAP = "ce_credentials"
# What lists may show of an entry (the admin's, the API's): its names, its client id and
# which secrets are set, never a secret itself.
CREDENTIAL_SUMMARY_FIELDS = (
    "map_name",
    "key_name",
    "client_id",
    "has_client_secret",
    "has_api_key",
    "has_refresh_token",
    "updated_at",
)


class Credential(TimeStampedModel):
    """One entry of the credential store: a map name and a key name (reference 003).

    An entry may hold OAuth2 client credentials (client id + secret, saved together), an API
    key, and/or an OAuth2 refresh token. Every secret column is ciphertext.
    """

    map_name = models.CharField(max_length=100, default=DEFAULT_CREDENTIAL_MAP)
    key_name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=500, blank=True)
    client_secret = EncryptedTextField(blank=True)
    api_key = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["map_name", "key_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["map_name", "key_name"], name="credential_map_key_unique"
            ),
            # Reference 003: client id and secret are saved together or not at all.
            models.CheckConstraint(
                condition=(
                    (models.Q(client_id="") & models.Q(client_secret=""))
                    | (~models.Q(client_id="") & ~models.Q(client_secret=""))
                ),
                name="credential_client_id_and_secret_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.map_name}/{self.key_name}"

    def __repr__(self) -> str:
        # Never the secret values: only which of them are set.
        return (
            f"<Credential {self.map_name}/{self.key_name} client_id={self.client_id!r} "
            f"has_client_secret={self.has_client_secret} has_api_key={self.has_api_key} "
            f"has_refresh_token={self.has_refresh_token}>"
        )

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret)

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key)

    @property
    def has_refresh_token(self) -> bool:
        return bool(self.refresh_token)


class OAuthToken(TimeStampedModel):
    """An access token cached for every worker process, encrypted like any secret."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="tokens")
    token_url = models.URLField(max_length=1000)
    # The origin (scheme://host:port) of the API the token was fetched for: it is never sent
    # anywhere else, even if the integration is later pointed at another host.
    origin = models.CharField(max_length=300)
    access_token = EncryptedTextField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "token_url", "origin"], name="oauth_token_unique"
            )
        ]

    def __str__(self) -> str:
        return f"token for {self.credential} from {self.token_url}"

    def __repr__(self) -> str:
        return f"<OAuthToken {self.credential} expires_at={self.expires_at.isoformat()}>"
