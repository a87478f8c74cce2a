"""API tokens (DESIGN.md, "REST API"): created with a name and an optional expiry, the value
returned once and never stored (knox keeps its digest and a short prefix); revoked by deleting
the row. Audit rows name the token by its name and prefix, never by its value."""

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from integration_hub.models import API_TOKEN_NAME_MAX_LENGTH, ApiToken, User

from .audit import audit_record

EXPIRY_DAYS_MAX = 3650
DEFAULT_TOKEN_NAME = "API token"  # noqa: S105 (a name, not a secret)


@dataclass(frozen=True)
class CreatedApiToken:
    """A token just created, with its value: the only time the value exists outside the
    client that receives it."""

    token: ApiToken
    value: str


def _validated(*, name: str, expires_in_days: int | None) -> tuple[str, timedelta | None]:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the token a name (what will use it, say)."]
    elif len(name) > API_TOKEN_NAME_MAX_LENGTH:
        errors["name"] = [f"A token name has at most {API_TOKEN_NAME_MAX_LENGTH} characters."]
    if expires_in_days is not None and not 1 <= expires_in_days <= EXPIRY_DAYS_MAX:
        errors["expires"] = [
            f"Expiry is a whole number of days from 1 to {EXPIRY_DAYS_MAX} (or none: the token "
            "never expires)."
        ]
    if errors:
        raise ValidationError(errors)
    return name, timedelta(days=expires_in_days) if expires_in_days is not None else None


@transaction.atomic
def api_token_create(
    *, user: User, name: str, expires_in_days: int | None = None, acting_user=None
) -> CreatedApiToken:
    """A new token for `user`; it never expires unless `expires_in_days` is given. The value
    in the result is shown once and is not kept anywhere."""
    name, expiry = _validated(name=name, expires_in_days=expires_in_days)
    token, value = ApiToken.objects.create(user=user, expiry=expiry, name=name)
    audit_record(
        actor=acting_user,
        action="api_token.created",
        target=user.get_username(),
        details={
            "name": name,
            "prefix": token.token_key,
            "expires": token.expiry.isoformat() if token.expiry else None,
        },
    )
    return CreatedApiToken(token=token, value=value)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, acting_user=None) -> ApiToken:
    """Revoke a token: it stops authenticating at once."""
    audit_record(
        actor=acting_user,
        action="api_token.revoked",
        target=token.user.get_username(),
        details={"name": token.name, "prefix": token.token_key},
    )
    token.delete()
    return token
