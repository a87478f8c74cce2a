"""Connections (DESIGN.md: a hub user's link to an ORGANISATION_KIT integration through one
of their verified identities)."""

from django.db import transaction

from integration_hub.models import Integration
from integration_hub.services.audit import audit_record

from ..models import Channel, Connection, SyncJob, VerifiedIdentity
from .events import queue_default_ensure
from .identities import identity_normalise
from .sync_jobs import sync_request


class IdentityNotVerified(Exception):
    """The user has not verified the identity the connection would use (403)."""


class IntegrationNotConnectable(Exception):
    """Not an ORGANISATION_KIT integration (400)."""


class IntegrationNotFound(IntegrationNotConnectable):
    """No integration with that id (404 naming the field)."""


class IntegrationDisabled(IntegrationNotConnectable):
    """A disabled integration is never called (DESIGN.md: 409)."""


def integration_connectable(*, integration_id: int) -> Integration:
    """The enabled ORGANISATION_KIT integration with this id, else the reason it is not. The
    reasons name the id only: anyone signed in may ask, and only the enabled Organisation Kit
    integrations are theirs to see by name."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        raise IntegrationNotFound(f"No integration {integration_id}.")
    if integration.kind != Integration.Kind.ORGANISATION_KIT:
        raise IntegrationNotConnectable(f"Integration {integration_id} is not an Organisation Kit.")
    if not integration.enabled:
        raise IntegrationDisabled(f"Integration {integration_id} is disabled.")
    return integration


def _identity_pick(
    *, user, integration: Integration, personal_number: str | None, email: str | None
) -> VerifiedIdentity:
    """The user's identity to connect to `integration` with: only one verified for it counts
    (DESIGN.md: an identity verified at one organisation opens nothing at another)."""
    identities = VerifiedIdentity.objects.filter(user=user)
    if personal_number:
        kind, value = VerifiedIdentity.Kind.PERSONAL_NUMBER, personal_number
    elif email:
        kind, value = VerifiedIdentity.Kind.EMAIL, email
    else:
        # Omitted: the user's verified identity, a personal number first (reference 001).
        identity = identities.valid_for(integration).order_by("-kind", "id").first()
        if identity is None:
            raise IdentityNotVerified(
                f"You have no identity verified for {integration.name}: verify your personal "
                "number with its BankID, or your email with a provider it trusts."
            )
        return identity
    identity = identities.filter(
        kind=kind, value=identity_normalise(kind=kind, value=value)
    ).first()
    if identity is None:
        raise IdentityNotVerified("That identity is not one you have verified.")
    if not identities.valid_for(integration).filter(pk=identity.pk).exists():
        raise IdentityNotVerified(
            f"That identity is not verified for {integration.name}: verify it with its "
            "BankID, or with an identity provider it trusts."
        )
    return identity


@transaction.atomic
def connection_create(
    *,
    user,
    integration_id: int,
    personal_number: str | None = None,
    email: str | None = None,
    auto_sync: bool = True,
    initial_sync_delay_seconds: float = 0,
) -> Connection:
    """Create the connection (or return the existing one for that integration and identity)
    with its channels and the user's default queue, and queue its initial sync."""
    integration = integration_connectable(integration_id=integration_id)
    identity = _identity_pick(
        user=user, integration=integration, personal_number=personal_number, email=email
    )
    connection, created = Connection.objects.get_or_create(
        user=user, integration=integration, identity=identity, defaults={"auto_sync": auto_sync}
    )
    if created:
        Channel.objects.bulk_create(
            Channel(connection=connection, definition=definition)
            for definition in Channel.Definition.values
        )
        queue_default_ensure(user=user)
        audit_record(
            actor=user,
            action="connection.created",
            target=str(connection),
            details={"id": connection.pk, "integration": integration.pk},
        )
        sync_request(
            connection=connection,
            kind=SyncJob.Kind.INITIAL,
            delay_seconds=initial_sync_delay_seconds,
        )
    return connection
