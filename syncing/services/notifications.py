"""Delivery of notifications (DESIGN.md: stored, shown to the Owner, delivered once through
the notifier, and reported to the organisation as an event).

The notifier is `NotificationWebhookUrl` (a JSON POST through the one outbound client, with
`Idempotency-Key: notification-<id>`), else the log. A sender first claims a notification
with one conditional UPDATE (atomic on SQLite and PostgreSQL alike), so that two clusters
never both send it; each side effect is marked done on its own and only what is not done is
retried, with backoff. A sender that dies after sending and before marking leaves the claim
to expire: the retry carries the same Idempotency-Key, so the receiver can tell.
"""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from integration_hub.outbound import OutboundClient, OutboundError, ensure_success
from integration_hub.services.errors import IntegrationDisabled
from integration_hub.system_settings import setting_get

from ..models import Notification
from ..organisation_kit import OrganisationKitClient, PartnerError

logger = logging.getLogger("syncing.notifications")

CLAIM_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 10
BATCH = 200
REPORT_EVENT_TYPE = "INVOICE_NOTIFICATION"


def _undone() -> Q:
    return Q(delivered_at__isnull=True) | Q(reported_at__isnull=True)


def _claim(notification_id: int, now) -> bool:
    claimable = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return bool(
        Notification.objects.filter(_undone(), claimable, pk=notification_id).update(
            claimed_until=now + CLAIM_LEASE
        )
    )


def notification_payload(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "message": notification.message,
        "user": notification.user.get_username(),
        "email": notification.user.email,
        "connectionId": notification.connection_id,
        "accountId": notification.account.partner_id,
        "invoiceId": notification.invoice_id,
        "createdAt": notification.created_at.isoformat(),
    }


def _notifier_send(notification: Notification) -> None:
    url = setting_get("NotificationWebhookUrl")
    if not url:
        logger.info(
            "notification %s to %s: %s",
            notification.pk,
            notification.user.get_username(),
            notification.message,
        )
        return
    response = OutboundClient(base_url=url).post(
        json=notification_payload(notification),
        headers={"Idempotency-Key": f"notification-{notification.pk}"},
    )
    ensure_success(response)


def _organisation_report(notification: Notification) -> None:
    kit = OrganisationKitClient.for_integration(notification.connection.integration)
    kit.event_report(
        notification.account.partner_id,
        event_type=REPORT_EVENT_TYPE,
        timestamp=int(notification.created_at.timestamp()),
        data={
            "notificationId": str(notification.pk),
            "kind": notification.kind,
            "invoiceId": notification.invoice_id,
        },
    )


def _side_effect(notification: Notification, send, *, done_field: str, error_field: str):
    """Do one side effect and save its outcome at once, so that one that succeeded is never
    done again because the other failed or the process died. Returns whether it failed."""
    try:
        send(notification)
    except Exception as exc:  # any failure: recorded, retried later; never lost or repeated
        if not isinstance(exc, OutboundError | PartnerError | IntegrationDisabled):
            logger.exception("notification %s: %s failed", notification.pk, done_field)
        text = str(exc)[:500] or type(exc).__name__
        Notification.objects.filter(pk=notification.pk).update(**{error_field: text})
        setattr(notification, error_field, text)
        return True
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(**{done_field: now, error_field: ""})
    setattr(notification, done_field, now)
    return False


def _notification_deliver_claimed(notification: Notification) -> None:
    failed = False
    if notification.delivered_at is None:
        failed |= _side_effect(
            notification, _notifier_send, done_field="delivered_at", error_field="delivery_error"
        )
    if notification.reported_at is None:
        failed |= _side_effect(
            notification,
            _organisation_report,
            done_field="reported_at",
            error_field="report_error",
        )
    fields = {"claimed_until": None}
    if failed:
        attempts = notification.attempts + 1
        fields.update(
            attempts=attempts,
            next_attempt_at=timezone.now() + timedelta(minutes=min(2**attempts, 60)),
        )
        logger.warning(
            "notification %s not delivered (attempt %s): %s %s",
            notification.pk,
            attempts,
            notification.delivery_error,
            notification.report_error,
        )
    Notification.objects.filter(pk=notification.pk).update(**fields)


def notifications_deliver(*, connection_id: int | None = None, now=None) -> int:
    """Send what is due of the undelivered notifications (of one connection, or all); outside
    any transaction. Returns how many this call claimed."""
    now = now or timezone.now()
    due = Notification.objects.filter(
        _undone(),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        attempts__lt=MAX_ATTEMPTS,
    )
    if connection_id is not None:
        due = due.filter(connection_id=connection_id)
    claimed = 0
    for notification_id in list(due.order_by("id").values_list("pk", flat=True)[:BATCH]):
        if not _claim(notification_id, timezone.now()):
            continue  # another sender has it, or it is done
        claimed += 1
        notification = Notification.objects.select_related(
            "user", "account", "connection__integration"
        ).get(pk=notification_id)
        _notification_deliver_claimed(notification)
    return claimed


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
