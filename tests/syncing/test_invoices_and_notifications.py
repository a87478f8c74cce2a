"""Invoice sync and notifications (reference 000, "Invoice synchronisation"; DESIGN.md): the
widening window, each notification kind, delivery exactly once through the notifier and to
the organisation, and nothing of an invoice kept but its last seen status."""

import json
import threading
from datetime import date, timedelta

import pytest
import responses
from django.core import serializers
from django.db import connection as db_connection
from django.utils import timezone

from integration_hub.services.system_settings import setting_set
from syncing.models import Event, InvoiceState, Notification, SyncJob
from syncing.services.invoices import invoices_recent
from syncing.services.notifications import notifications_deliver
from tests.datasync.receiver import LocalReceiver

from .conftest import invoice

pytestmark = pytest.mark.django_db

WEBHOOK = "https://notify.example.com/hook"


def synced(connection, tasks):
    tasks.run()
    connection.refresh_from_db()
    assert connection.status == "SUCCESS", connection.last_error
    return connection


def invoice_sync(connection, request_sync, tasks):
    request_sync(connection, SyncJob.Kind.INVOICES)
    tasks.run()


def kinds(user) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(user=user).values_list("invoice_id", "kind"))


def test_the_invoice_window_widens_until_the_two_most_recent_invoices_are_in(
    anna, kit_integration, partner, connect, tasks
):
    today = timezone.localdate()
    partner.invoices["A1"] = [
        invoice("INV-3", "new", today - timedelta(days=10)),
        invoice("INV-2", "paid", today - timedelta(days=100)),
        invoice("INV-1", "paid", today - timedelta(days=200)),
    ]
    synced(connect(anna, kit_integration), tasks)

    windows = [
        (date.fromisoformat(call["toDate"]) - date.fromisoformat(call["fromDate"])).days
        for call in partner.invoice_calls("A1")
    ]
    # 31 days hold one invoice, 62 still one, 124 the two most recent: stop there.
    assert windows == [31, 62, 124]
    assert all(call["toDate"] == today.isoformat() for call in partner.invoice_calls("A1"))
    assert set(InvoiceState.objects.values_list("invoice_id", flat=True)) == {"INV-3", "INV-2"}


def test_an_account_with_fewer_than_two_invoices_stops_widening_at_the_widest_window(
    anna, kit_integration, partner
):
    partner.invoices["A1"] = []
    from syncing.organisation_kit import OrganisationKitClient

    assert invoices_recent(OrganisationKitClient.for_integration(kit_integration), "A1") == []
    windows = [
        (date.fromisoformat(c["toDate"]) - date.fromisoformat(c["fromDate"])).days
        for c in partner.invoice_calls("A1")
    ]
    assert windows == [31, 62, 124, 248, 496, 992]


def test_the_first_sync_tells_of_a_new_invoice_but_not_of_a_paid_one(
    anna, kit_integration, partner, connect, tasks
):
    synced(connect(anna, kit_integration), tasks)

    assert kinds(anna) == [("INV-2", "INVOICE_NEW")]
    notification = Notification.objects.get()
    assert notification.message == "New invoice INV-2 for Home."
    assert notification.account.partner_id == "A1"


def test_an_invoice_that_becomes_paid_or_overdue_gives_one_notification_each(
    anna, kit_integration, partner, connect, tasks, request_sync
):
    today = timezone.localdate()
    connection = synced(connect(anna, kit_integration), tasks)
    partner.invoices["A1"] = [
        invoice("INV-3", "overdue", today - timedelta(days=2)),  # first seen already overdue
        invoice("INV-2", "paid", today - timedelta(days=5)),  # was new
        invoice("INV-1", "overdue", today - timedelta(days=20)),  # was paid
    ]

    invoice_sync(connection, request_sync, tasks)

    assert kinds(anna) == [
        ("INV-1", "INVOICE_OVERDUE"),
        ("INV-2", "INVOICE_NEW"),
        ("INV-2", "INVOICE_PAID"),
        ("INV-3", "INVOICE_OVERDUE"),
    ]
    assert dict(InvoiceState.objects.values_list("invoice_id", "status")) == {
        "INV-1": "overdue",
        "INV-2": "paid",
        "INV-3": "overdue",
    }
    event = Event.objects.filter(event_type="INVOICES_SUCCESS").last()
    assert (event.resource["id"], event.resource["notification_count"]) == ("A1", 3)


def test_a_repeated_invoice_sync_gives_no_second_notification(
    anna, kit_integration, partner, connect, tasks, request_sync
):
    connection = synced(connect(anna, kit_integration), tasks)

    invoice_sync(connection, request_sync, tasks)
    invoice_sync(connection, request_sync, tasks)

    assert kinds(anna) == [("INV-2", "INVOICE_NEW")]
    reports = [event for event in partner.events if event["type"] == "INVOICE_NOTIFICATION"]
    assert len(reports) == 1


def test_a_guest_gets_no_invoice_sync_and_no_notifications(
    anna, kit_integration, partner, connect, tasks
):
    partner.invoices["A2"] = [invoice("OFFICE-1", "new", timezone.localdate())]

    synced(connect(anna, kit_integration), tasks)

    assert partner.invoice_calls("A2") == []
    assert not Notification.objects.filter(account__partner_id="A2").exists()


def test_a_notification_is_delivered_to_the_webhook_and_reported_to_the_organisation_once(
    anna, kit_integration, partner, connect, tasks
):
    setting_set(key="NotificationWebhookUrl", value=WEBHOOK)
    hook = partner.mock.add(responses.POST, WEBHOOK, json={"ok": True})

    synced(connect(anna, kit_integration), tasks)
    assert notifications_deliver() == 0  # again: nothing left to send

    assert hook.call_count == 1
    sent = hook.calls[0].request
    body = json.loads(sent.body)
    notification = Notification.objects.get()
    assert sent.headers["Idempotency-Key"] == f"notification-{notification.pk}"
    assert body["kind"] == "INVOICE_NEW"
    assert (body["user"], body["accountId"], body["invoiceId"]) == ("anna", "A1", "INV-2")
    assert partner.events == [
        {
            "account": "A1",
            "type": "INVOICE_NOTIFICATION",
            "timestamp": int(notification.created_at.timestamp()),
            "data": {
                "notificationId": str(notification.pk),
                "kind": "INVOICE_NEW",
                "invoiceId": "INV-2",
            },
        }
    ]
    assert notification.delivered_at is not None
    assert notification.reported_at is not None


def test_without_a_webhook_the_notification_goes_to_the_log(
    anna, kit_integration, partner, connect, tasks, caplog
):
    with caplog.at_level("INFO", logger="syncing.notifications"):
        synced(connect(anna, kit_integration), tasks)

    assert "to anna: New invoice INV-2 for Home." in caplog.text
    assert Notification.objects.get().delivered_at is not None


def test_a_failed_delivery_is_retried_later_without_reporting_twice(
    anna, kit_integration, partner, connect, tasks
):
    setting_set(key="NotificationWebhookUrl", value=WEBHOOK)
    hook = partner.mock.add(responses.POST, WEBHOOK, status=503)

    synced(connect(anna, kit_integration), tasks)
    notification = Notification.objects.get()
    assert notification.delivered_at is None
    assert notification.delivery_error.startswith("HTTP 503")
    assert notification.reported_at is not None
    assert notification.next_attempt_at > timezone.now()
    assert notifications_deliver() == 0  # backing off

    partner.mock.replace(responses.POST, WEBHOOK, json={"ok": True})
    assert notifications_deliver(now=notification.next_attempt_at) == 1

    notification.refresh_from_db()
    assert notification.delivered_at is not None
    assert hook.call_count == 1  # the replaced one had the 503
    assert len(partner.events) == 1


def test_invoices_are_never_stored_only_their_last_seen_status(
    anna, kit_integration, partner, connect, tasks
):
    synced(connect(anna, kit_integration), tasks)

    stored = "".join(
        serializers.serialize("json", model.objects.all())
        for model in (InvoiceState, Notification, Event)
    )
    for item in partner.invoices["A1"]:
        assert item["amount"] not in stored
        assert item["dueDate"] not in stored
        assert item["issueDate"] not in stored
    assert list(InvoiceState.objects.values_list("invoice_id", "status")) == [
        ("INV-1", "paid"),
        ("INV-2", "new"),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_deliver_each_notification_once(
    anna, kit_integration, partner, connect, tasks
):
    receiver = LocalReceiver().start()
    try:
        partner.mock.add_passthru(receiver.base_url)
        setting_set(key="NotificationWebhookUrl", value=f"{receiver.base_url}/api")
        connection = synced(connect(anna, kit_integration), tasks)
        # More notifications than one sender gets through before the other starts.
        account = connection.accounts.get(partner_id="A1")
        Notification.objects.bulk_create(
            Notification(
                user=anna,
                connection=connection,
                account=account,
                invoice_id=f"X-{n}",
                kind="INVOICE_NEW",
                message=f"New invoice X-{n}",
                next_attempt_at=timezone.now(),
            )
            for n in range(40)
        )
        start = threading.Barrier(2)

        def sender():
            start.wait()
            try:
                notifications_deliver()
            finally:
                db_connection.close()

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        ids = [json.loads(delivery.body)["id"] for delivery in receiver.deliveries]
        assert len(ids) == len(set(ids))
        assert set(ids) == set(Notification.objects.values_list("pk", flat=True))
        reported = [event["data"]["notificationId"] for event in partner.events]
        assert len(reported) == len(set(reported)) == Notification.objects.count()
    finally:
        receiver.stop()
