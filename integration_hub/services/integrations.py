from django.core.exceptions import ValidationError
from django.db import transaction

from integration_hub.models import Integration
from integration_hub.outbound.errors import OutboundPolicyError
from integration_hub.outbound.policy import check_url

from .audit import audit_record
from .errors import secret_routing_guard

# The fields a caller (the API, the admin) may set on an integration.
INTEGRATION_FIELDS = (
    "name",
    "kind",
    "base_url",
    "auth_type",
    "token_url",
    "authorize_url",
    "revoke_url",
    "scope",
    "credential_map",
    "credential_key",
    "enabled",
    "service_user",
)
# The fields that decide which host receives the credential (DESIGN.md, "Roles"): only System
# Admin sets, changes or clears them.
SECRET_ROUTING_FIELDS = (
    "base_url",
    "auth_type",
    "token_url",
    "authorize_url",
    "revoke_url",
    "scope",
    "credential_map",
    "credential_key",
)
_API_NAMES = {
    "base_url": "baseUrl",
    "auth_type": "authType",
    "token_url": "tokenUrl",
    "authorize_url": "authorizeUrl",
    "revoke_url": "revokeUrl",
    "scope": "scope",
    "credential_map": "credentialMap",
    "credential_key": "credentialKey",
}


def integration_validate(integration: Integration) -> None:
    """Cross-field and network-policy checks, with errors named as the API names fields."""
    errors: dict[str, list[str]] = {}
    for field in ("base_url", "token_url", "authorize_url", "revoke_url"):
        url = getattr(integration, field)
        if url:
            try:
                check_url(url)
            except OutboundPolicyError as exc:
                errors.setdefault(_API_NAMES[field], []).append(str(exc))
    oauth2 = {
        Integration.AuthType.OAUTH2_CLIENT_CREDENTIALS,
        Integration.AuthType.OAUTH2_REFRESH_TOKEN,
    }
    # OAUTH2_AUTHORIZATION_CODE may leave it blank: the default of the accounting type (or
    # other user of the grant) that connects through it.
    if integration.auth_type in oauth2 and not integration.token_url:
        errors.setdefault("tokenUrl", []).append("OAuth2 needs the token endpoint's URL.")
    if integration.auth_type != Integration.AuthType.NONE and not integration.credential_key:
        errors.setdefault("credentialKey", []).append(
            "Name the credential store key that holds this integration's secret."
        )
    if errors:
        raise ValidationError(errors)


def _routing_changes(integration: Integration, fields: dict) -> list[str]:
    """The API names of the secret-routing fields that `fields` would change."""
    return [
        _API_NAMES[name]
        for name in SECRET_ROUTING_FIELDS
        if name in fields and fields[name] != getattr(integration, name)
    ]


@transaction.atomic
def integration_create(*, acting_user=None, **fields) -> Integration:
    # Against a blank integration: a field given at its default changes nothing.
    secret_routing_guard(acting_user=acting_user, fields=_routing_changes(Integration(), fields))
    integration = Integration(**fields)
    integration_validate(integration)
    integration.full_clean(validate_constraints=False)
    integration.save()
    audit_record(
        actor=acting_user,
        action="integration.created",
        target=integration.name,
        details={"id": integration.pk},
    )
    return integration


@transaction.atomic
def integration_update(*, integration: Integration, acting_user=None, **fields) -> Integration:
    secret_routing_guard(acting_user=acting_user, fields=_routing_changes(integration, fields))
    changed = sorted(name for name, value in fields.items() if getattr(integration, name) != value)
    for name, value in fields.items():
        setattr(integration, name, value)
    integration_validate(integration)
    integration.full_clean(validate_constraints=False)
    integration.save()
    audit_record(
        actor=acting_user,
        action="integration.changed",
        target=integration.name,
        details={"id": integration.pk, "fields": changed},
    )
    return integration


@transaction.atomic
def integration_delete(*, integration: Integration, acting_user=None) -> None:
    audit_record(
        actor=acting_user,
        action="integration.deleted",
        target=integration.name,
        details={"id": integration.pk},
    )
    integration.delete()
