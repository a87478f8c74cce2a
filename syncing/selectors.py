"""Reads of inbound sync: a user's own connections, queues, events and mirrored accounts."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404

from integration_hub import roles
from integration_hub.api.ids import ID_MAXIMUM
from integration_hub.models import Integration

from .models import (
    Account,
    Agreement,
    Connection,
    Event,
    EventQueue,
    IdentityVerification,
    Location,
    Notification,
    Product,
    Service,
    SyncJob,
    VerifiedIdentity,
)


def unix_seconds(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def user_may_sync_every_connection(user) -> bool:
    """Sync Account for every integration (the REST API), and the admin's "Sync now" on any
    user's connections: System Admin and System Config."""
    return roles.user_has_role(user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG)


def organisation_kit_integrations() -> QuerySet[Integration]:
    """The organisations a user may connect to (or verify an identity with)."""
    return Integration.objects.filter(
        kind=Integration.Kind.ORGANISATION_KIT, enabled=True
    ).order_by("name")


@dataclass(frozen=True)
class IdentityValidity:
    """A verified identity with whom it was verified by and what it counts for: every
    integration, or those listed."""

    identity: VerifiedIdentity
    verifications: list[IdentityVerification]
    is_for_all: bool
    integrations: list[Integration]

    def is_valid_for(self, integration_id: int) -> bool:
        return self.is_for_all or any(i.pk == integration_id for i in self.integrations)


def identities_with_verifications(*, user) -> QuerySet[VerifiedIdentity]:
    """The user's identities with their verifications prefetched (a fixed number of
    queries), for `identity_validity`."""
    verifications = IdentityVerification.objects.select_related(
        "integration", "provider"
    ).prefetch_related("provider__integrations")
    return (
        VerifiedIdentity.objects.filter(user=user)
        .prefetch_related(Prefetch("verifications", queryset=verifications))
        .order_by("kind", "value")
    )


def identity_validity(identity: VerifiedIdentity) -> IdentityValidity:
    """What an identity of `identities_with_verifications` counts for."""
    found = list(identity.verifications.all())
    integrations = {}
    for verification in found:
        if verification.integration is not None:
            integrations[verification.integration.pk] = verification.integration
        if verification.provider is not None and not verification.provider.is_trusted_for_all:
            integrations.update({i.pk: i for i in verification.provider.integrations.all()})
    return IdentityValidity(
        identity=identity,
        verifications=found,
        is_for_all=any(v.is_for_all for v in found),
        integrations=sorted(integrations.values(), key=lambda i: (i.name, i.pk)),
    )


def connection_identity_counts(connection: Connection) -> bool:
    """Whether the connection's identity still counts for its integration (a provider no
    longer trusted there, or a removed one, makes it not)."""
    return (
        VerifiedIdentity.objects.valid_for(connection.integration_id)
        .filter(pk=connection.identity_id)
        .exists()
    )


def identities_with_validity(*, user) -> list[IdentityValidity]:
    """The user's identities, each with what it is valid for."""
    return [identity_validity(i) for i in identities_with_verifications(user=user)]


def connection_list(*, user) -> QuerySet[Connection]:
    return (
        Connection.objects.filter(user=user)
        .select_related("integration")
        .prefetch_related("channels")
        .order_by("id")
    )


def connection_get(*, user, connection_id: int) -> Connection | None:
    return connection_list(user=user).filter(pk=connection_id).first()


def _is_id(value) -> bool:
    """An id that may name a row: a whole number within the database's range (one beyond it
    must not reach a query, where SQLite would overflow)."""
    try:
        return 1 <= int(value) <= ID_MAXIMUM
    except (TypeError, ValueError):
        return False


def connection_of(*, user, connection_id) -> Connection:
    """The user's own connection with this id, or Http404 (the APIs and the pages alike)."""
    connection = (
        connection_get(user=user, connection_id=connection_id) if _is_id(connection_id) else None
    )
    if connection is None:
        raise Http404("No such connection of yours.")
    return connection


def connection_resource(connection: Connection) -> dict:
    """The connection as /v2.1/ shows it and as events carry it (reference 002)."""
    return {
        "id": str(connection.pk),
        "provider_id": str(connection.integration_id),
        "name": connection.integration.name,
        "status": connection.status,
        "auto_sync": connection.auto_sync,
        "channels": [
            {
                "channel_definition_id": channel.definition,
                "status": channel.status,
                "last_success_date": unix_seconds(channel.last_success_at),
                "last_end_date": unix_seconds(channel.last_end_at),
            }
            for channel in connection.channels.all()
        ],
        "creation_date": unix_seconds(connection.created_at),
    }


def queue_list(*, user) -> QuerySet[EventQueue]:
    return EventQueue.objects.filter(user=user).order_by("id")


QUEUE_EVENTS_AT_MOST = 500


def queue_events(*, user, queue_id: int, after: int | None = None) -> QuerySet[Event] | None:
    """Events of the user's queue, oldest first, at most QUEUE_EVENTS_AT_MOST of them: a
    client reads on with `after` the last id it got (None: not their queue)."""
    queue = queue_list(user=user).filter(pk=queue_id).first()
    if queue is None:
        return None
    events = queue.events.order_by("id")
    if after is not None:
        events = events.filter(id__gt=after)
    return events[:QUEUE_EVENTS_AT_MOST]


def connection_accounts(*, connection: Connection) -> QuerySet[Account]:
    """The present mirrored accounts with everything under them, in a fixed number of
    queries. What a GUEST may see is narrowed by the API's serializer."""
    services = Service.objects.order_by("id").prefetch_related(
        Prefetch("agreements", queryset=Agreement.objects.order_by("id")),
        Prefetch("products", queryset=Product.objects.order_by("id")),
    )
    return (
        connection.accounts.filter(is_present=True)
        .order_by("partner_id")
        .prefetch_related(
            "users",
            Prefetch(
                "locations",
                queryset=Location.objects.order_by("id").prefetch_related(
                    Prefetch("services", queryset=services)
                ),
            ),
        )
    )


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    notifications = Notification.objects.filter(user=user).select_related("account")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-id")


def notification_of(*, user, notification_id) -> Notification:
    """The user's own notification with this id, or Http404."""
    notification = (
        notification_list(user=user).filter(pk=notification_id).first()
        if _is_id(notification_id)
        else None
    )
    if notification is None:
        raise Http404("No such notification of yours.")
    return notification


def connections_with_last_sync(*, user) -> list[Connection]:
    """The user's connections, each with `last_job` (its latest sync, or None): three queries
    whatever the number of connections and syncs."""
    latest = SyncJob.objects.filter(connection=OuterRef("pk")).order_by("-id").values("id")[:1]
    connections = list(connection_list(user=user).annotate(last_job_id=Subquery(latest)))
    jobs = SyncJob.objects.in_bulk([c.last_job_id for c in connections if c.last_job_id])
    for connection in connections:
        connection.last_job = jobs.get(connection.last_job_id)
    return connections


def queue_position(*, user) -> tuple[int | None, int]:
    """The user's default queue id (None before their first connection) and its last event
    id, from which a page polls for what comes next."""
    queue = queue_list(user=user).filter(name=EventQueue.DEFAULT_NAME).first()
    if queue is None:
        return None, 0
    last = queue.events.order_by("-id").values_list("id", flat=True).first()
    return queue.pk, last or 0


def account_resource(account: Account) -> dict:
    """An account as events carry it; connection_id tells a user's connections apart in
    their one queue."""
    return {
        "id": account.partner_id,
        "connection_id": str(account.connection_id),
        "customer_id": account.customer_id,
        "name": account.name,
        "type": account.type,
        "role": account.role,
    }
