from django.db import models
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

API_TOKEN_NAME_MAX_LENGTH = 100


class ApiToken(AbstractAuthToken):
    """A user's API token (DESIGN.md, "REST API"): sent as `Token KEY` or `Bearer KEY`.

    Only knox's digest of the value and its short prefix (`token_key`) are stored; the value
    itself is shown once, when the token is created. A token never expires unless it was
    created with an `expiry`. `last_used` is kept to the minute.
    """

    # knox keys tokens by their digest; a number keys them here, so that URLs (the admin's,
    # the revoke button's) never carry a digest.
    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = models.CharField(max_length=API_TOKEN_NAME_MAX_LENGTH)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…) of {self.user}"

    def __repr__(self) -> str:
        return f"<ApiToken {self.pk} {self.token_key}… of user {self.user_id}>"
