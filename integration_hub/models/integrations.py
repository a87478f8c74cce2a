from django.conf import settings
from django.db import models

from .base import TimeStampedModel
from .credentials import DEFAULT_CREDENTIAL_MAP


class Integration(TimeStampedModel):
    """An outbound endpoint the hub calls, with how it authenticates.

    The secret itself is in the credential store under (credential_map, credential_key).
    """

    class Kind(models.TextChoices):
        ORGANISATION_KIT = "ORGANISATION_KIT", "Organisation Kit"
        ACCOUNTING = "ACCOUNTING", "Accounting"
        WEBHOOK = "WEBHOOK", "Webhook"

    class AuthType(models.TextChoices):
        NONE = "NONE", "None"
        API_KEY = "API_KEY", "API key"
        OAUTH2_CLIENT_CREDENTIALS = "OAUTH2_CLIENT_CREDENTIALS", "OAuth2 client credentials"
        OAUTH2_REFRESH_TOKEN = "OAUTH2_REFRESH_TOKEN", "OAuth2 refresh token"
        # A user grants access (with PKCE); the grants are OAuthGrant rows. A blank
        # token_url or authorize_url means the default of whatever connects through it
        # (an accounting type's).
        OAUTH2_AUTHORIZATION_CODE = "OAUTH2_AUTHORIZATION_CODE", "OAuth2 authorization code"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    base_url = models.URLField(max_length=1000)
    auth_type = models.CharField(max_length=30, choices=AuthType.choices, default=AuthType.NONE)
    token_url = models.URLField(max_length=1000, blank=True)
    authorize_url = models.URLField(max_length=1000, blank=True)
    revoke_url = models.URLField(max_length=1000, blank=True)
    scope = models.CharField(max_length=500, blank=True)
    credential_map = models.CharField(max_length=100, default=DEFAULT_CREDENTIAL_MAP, blank=True)
    credential_key = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    # The hub user the partner's own calls to the hub authenticate as (its token), such as an
    # organisation calling Sync Account for its customers.
    service_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_integrations",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(
                    auth_type__in=["OAUTH2_CLIENT_CREDENTIALS", "OAUTH2_REFRESH_TOKEN"]
                )
                | ~models.Q(token_url=""),
                name="integration_oauth2_needs_token_url",
            ),
            models.CheckConstraint(
                condition=models.Q(auth_type="NONE") | ~models.Q(credential_key=""),
                name="integration_auth_needs_credential_key",
            ),
        ]

    def __str__(self) -> str:
        return self.name
