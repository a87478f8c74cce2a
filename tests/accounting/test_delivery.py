"""Delivery of a record's packets (DESIGN.md, "Accounting"): each packet claimed before it is
sent, so that two deliveries never send it twice; idempotency keys over the exact body; a
slice that ends on time however slow the receiver."""

import json
import threading
import time

import pytest
from django.db import connection

from accounting.adapters import adapter_for
from accounting.models import Packet, SyncRecord
from accounting.services.delivery import idempotency_key_for, packet_body, sync_record_deliver
from accounting.services.sync import ledger_commit, packets_resend
from integration_hub.models import Integration
from integration_hub.services.system_settings import setting_set
from tests.factories import AccountingIntegrationFactory, IntegrationFactory

PAYLOAD = {"reference": "T", "payments": [{"depositAccount": "1200", "amount": "21.60"}]}


def _record_to(listener, *, packets: int, status=SyncRecord.Status.IN_PROGRESS) -> SyncRecord:
    endpoint = IntegrationFactory(
        kind=Integration.Kind.ACCOUNTING, base_url=f"{listener.url}/sales"
    )
    accounting_integration = AccountingIntegrationFactory(integration=endpoint)
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=status,
        requested_at="2026-11-20T10:00:00Z",
    )
    Packet.objects.bulk_create(
        Packet(
            sync_record=record,
            key=f"T{n}",
            content={},
            payload={**PAYLOAD, "reference": f"T{n}"},
            idempotency_key=idempotency_key_for(
                accounting_integration_id=accounting_integration.pk,
                key=f"T{n}",
                payload={**PAYLOAD, "reference": f"T{n}"},
            ),
        )
        for n in range(packets)
    )
    ledger_commit(sync_record=record)
    return record


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_record_send_each_packet_once(listener):
    """A second Resend while the first delivery runs: 40 packets, 40 POSTs (not 80)."""
    receiver = listener(delay=0.01)
    record = _record_to(receiver, packets=40)
    start = threading.Barrier(2)

    def deliver():
        try:
            start.wait()
            sync_record_deliver(sync_record_id=record.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    references = [json.loads(r.body)["reference"] for r in receiver.received]
    assert sorted(references) == sorted(f"T{n}" for n in range(40))
    assert set(record.packets.values_list("state", flat=True)) == {Packet.State.SENT}
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.SUCCESS


@pytest.mark.django_db
def test_a_packet_claimed_by_another_delivery_is_left_to_it(listener):
    from datetime import timedelta

    from django.utils import timezone

    receiver = listener()
    record = _record_to(receiver, packets=3)
    held = record.packets.get(key="T1")
    Packet.objects.filter(pk=held.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))

    sync_record_deliver(sync_record_id=record.pk)

    assert [json.loads(r.body)["reference"] for r in receiver.received] == ["T0", "T2"]
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.IN_PROGRESS  # the holder finishes it
    # A claim left by a killed delivery expires: the packet goes again, with its key.
    Packet.objects.filter(pk=held.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    sync_record_deliver(sync_record_id=record.pk)
    assert receiver.received[-1].headers["Idempotency-Key"] == held.idempotency_key
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.SUCCESS


@pytest.mark.django_db
def test_a_slow_receiver_and_a_short_slice_end_on_time(listener, tasks):
    """Each call may take the whole timeout (1 s): after the first, a call starts only with
    that much left, so a 1.2 s slice ends after about 0.2 s of 50 ms answers."""
    setting_set(key="OutboundTimeoutSeconds", value=1)
    receiver = listener(delay=0.05)
    record = _record_to(receiver, packets=100)

    started = time.monotonic()
    sync_record_deliver(sync_record_id=record.pk, slice_seconds=1.2)
    elapsed = time.monotonic() - started

    assert elapsed < 1.2
    sent = record.packets.filter(state=Packet.State.SENT).count()
    assert 1 <= sent < 100
    assert len(receiver.received) == sent
    assert tasks.args_of("accounting.tasks.sync_record_deliver") == [(record.pk,)]


@pytest.mark.django_db
def test_the_key_covers_the_exact_body_and_a_map_fix_gives_the_resend_a_new_key(listener, tasks):
    receiver = listener()
    record = _record_to(receiver, packets=1, status=SyncRecord.Status.SUCCESS)
    packet = record.packets.get()
    sync_record_deliver(sync_record_id=record.pk)
    sent = receiver.received[0]
    assert sent.body == packet_body(packet.payload)
    assert sent.headers["Idempotency-Key"] == packet.idempotency_key

    # The receiver refused it; the maps change the body; Resend sends a new request.
    record.accounting_integration.maps.create(kind="PAYMENT_METHOD", source="VISA", target="1210")
    Packet.objects.filter(pk=packet.pk).update(
        state=Packet.State.FAILED,
        content={
            "date": "2026-11-20",
            "reference": "T0",
            "payments": [["VISA", "21.60"]],
            "lines": [],
        },
    )
    packets_resend(sync_record=record, acting_user=None)
    packet.refresh_from_db()
    assert packet.state == Packet.State.PENDING
    assert packet.idempotency_key != sent.headers["Idempotency-Key"]
    tasks.run()
    assert receiver.received[-1].headers["Idempotency-Key"] == packet.idempotency_key
    assert receiver.received[-1].body == packet_body(packet.payload)


@pytest.mark.django_db
def test_a_claim_never_sends_a_body_a_resend_changed_nor_overwrites_a_later_holder(listener):
    from datetime import timedelta

    from django.utils import timezone

    from accounting.services import delivery

    receiver = listener()
    record = _record_to(receiver, packets=1)
    read = record.packets.get()  # as a delivery read it, before a Resend changed its body
    Packet.objects.filter(pk=read.pk).update(idempotency_key="a-new-body")
    generic = {
        "accounting_integration": record.accounting_integration,
        "adapter": adapter_for("GENERIC"),
        "timeout": 1,
    }
    assert delivery._packet_claim(read, **generic) is None

    current = record.packets.get()
    claim = delivery._packet_claim(current, **generic)
    later_holder = timezone.now() + timedelta(minutes=5)  # our claim expired; another took it
    Packet.objects.filter(pk=current.pk).update(claimed_until=later_holder)
    delivery._Slice(record, 60).send(current, claim)

    current.refresh_from_db()
    assert (current.state, current.claimed_until) == (Packet.State.PENDING, later_holder)


@pytest.mark.django_db
def test_resend_sends_the_pending_packets_a_killed_delivery_left_and_not_those_held(
    listener, tasks
):
    """Resend sends every packet that is not Sent and not claimed by a delivery in progress."""
    from datetime import timedelta

    from django.utils import timezone

    receiver = listener()
    record = _record_to(receiver, packets=3, status=SyncRecord.Status.SUCCESS)
    abandoned, held, _sent = record.packets.order_by("id")
    Packet.objects.filter(pk=abandoned.pk).update(claimed_until=timezone.now() - timedelta(1))
    Packet.objects.filter(pk=held.pk).update(claimed_until=timezone.now() + timedelta(1))
    Packet.objects.filter(pk=_sent.pk).update(state=Packet.State.SENT)

    assert packets_resend(sync_record=record, acting_user=None) == 1
    tasks.run()

    assert [json.loads(r.body)["reference"] for r in receiver.received] == [abandoned.key]
    assert record.packets.get(pk=held.pk).state == Packet.State.PENDING


DELIVER = "accounting.tasks.sync_record_deliver"


def _throttled_once(books, retry_after: str):
    from tests.accounting.conftest import BOOKS_URL

    books.post(BOOKS_URL, status=429, headers={"Retry-After": retry_after}, body="slow down")
    books.post(BOOKS_URL, status=201, json={})


@pytest.mark.django_db
def test_a_429_pauses_the_integration_and_the_packet_is_sent_once_after_retry_after(
    accounting_integration, post_order, tasks
):
    import responses as mocked

    from accounting.models import DeliveryPace
    from accounting.services.sync import sync_record_run, sync_request

    with mocked.RequestsMock() as books:
        _throttled_once(books, "1")
        post_order("T1")
        record = sync_request(accounting_integration=accounting_integration, acting_user=None)
        started = time.monotonic()
        sync_record_run(sync_record_id=record.pk)
        waited = time.monotonic() - started

        assert [call.response.status_code for call in books.calls] == [429, 201]
    packet = record.packets.get()
    assert (packet.state, packet.response_code, packet.attempts) == ("Sent", 201, 1)
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.SUCCESS
    assert DeliveryPace.objects.get(pk=accounting_integration.pk).paused_until is not None
    assert waited >= 0.9  # the second call waited for Retry-After


@pytest.mark.django_db
def test_a_pause_longer_than_the_slice_ends_it_and_schedules_the_rest_at_retry_after(
    accounting_integration, post_order, tasks
):
    from datetime import timedelta

    import responses as mocked
    from django.utils import timezone

    from accounting.models import DeliveryPace
    from accounting.services.sync import sync_record_run, sync_request

    with mocked.RequestsMock(assert_all_requests_are_fired=False) as books:
        _throttled_once(books, "120")
        post_order("T1")
        post_order("T2")
        record = sync_request(accounting_integration=accounting_integration, acting_user=None)
        tasks.clear()
        sync_record_run(sync_record_id=record.pk)

        assert [call.response.status_code for call in books.calls] == [429]
        assert set(record.packets.values_list("state", flat=True)) == {"Pending"}
        [delay] = tasks.delays_of(DELIVER)
        assert 110 < delay <= 120
        record.refresh_from_db()
        assert record.status == SyncRecord.Status.IN_PROGRESS
        # Waiting on the system is not a lost run: the watchdog leaves it alone.
        assert record.updated_at > timezone.now() + timedelta(seconds=100)

        # Two minutes on: the continuation sends both, the throttled one once.
        DeliveryPace.objects.update(paused_until=timezone.now())
        tasks.run()
        assert [call.response.status_code for call in books.calls] == [429, 201, 201]
    assert set(record.packets.values_list("state", flat=True)) == {"Sent"}
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.SUCCESS


@pytest.mark.django_db
def test_calls_keep_to_the_systems_per_minute_limit_across_deliveries(accounting_integration):
    """Xero allows 60 calls a minute: slots a little over a second apart, whoever asks."""
    from accounting.services.delivery import _pace_wait

    xero = adapter_for("XERO")
    waits = [_pace_wait(accounting_integration.pk, xero)[0] for _ in range(3)]

    assert waits[0] == 0
    assert 0.95 < waits[1] < 1.1
    assert 1.95 < waits[2] < 2.1
    assert _pace_wait(accounting_integration.pk, adapter_for("GENERIC")) == (0.0, True)
