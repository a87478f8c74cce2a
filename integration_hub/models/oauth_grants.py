from django.db import models

from integration_hub.crypto import EncryptedTextField

from .base import TimeStampedModel
from .integrations import Integration


class OAuthGrant(TimeStampedModel):
    """What a user granted the hub through the OAuth 2.0 authorization code flow: the
    refresh token the token endpoint issued for one company of theirs, and the access token
    last obtained with it, both encrypted. The app (client id and secret) is the
    integration's credential store entry, shared by every grant; a token is never shared.

    Owned by whatever asked for it (an accounting integration); never shown anywhere.
    """

    class ClientAuth(models.TextChoices):
        # RFC 6749 2.3.1: HTTP Basic (QuickBooks, Xero), or the id and secret in the form
        # body (Sage).
        BASIC = "BASIC", "HTTP Basic"
        BODY = "BODY", "In the request body"

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="oauth_grants"
    )
    # The token endpoint that issued the refresh token: it is only ever sent back there.
    token_url = models.URLField(max_length=1000)
    client_auth = models.CharField(
        max_length=10, choices=ClientAuth.choices, default=ClientAuth.BASIC
    )
    # The origin (scheme://host:port) of the API the access token is for: never sent
    # anywhere else, even if the integration is later pointed at another host.
    origin = models.CharField(max_length=300)
    refresh_token = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    # Held by the worker refreshing the tokens until then (outbound.auth.OAuthGrantAuth):
    # others wait for its rotated tokens instead of spending the refresh token too.
    refreshing_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(client_auth__in=["BASIC", "BODY"]),
                name="oauth_grant_client_auth_known",
            )
        ]

    def __str__(self) -> str:
        return f"OAuth grant {self.pk} of {self.integration_id}"

    def __repr__(self) -> str:
        # Never a token: only whether one is held.
        return (
            f"<OAuthGrant {self.pk} integration={self.integration_id} "
            f"has_refresh_token={bool(self.refresh_token)}>"
        )
