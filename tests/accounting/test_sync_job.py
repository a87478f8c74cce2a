"""The Sync job: window, packets in both modes, maps, delivery, resend, crashes, watchdog."""

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
import responses
from django.db import connection
from django.utils import timezone

from accounting.adapters.generic import GenericAdapter
from accounting.models import ExportedKey, Packet, SyncRecord
from accounting.selectors import window_start_for
from accounting.services import delivery as delivery_services
from accounting.services import sync as sync_services
from accounting.services.sync import (
    packets_resend,
    sync_record_run,
    sync_records_watchdog,
    sync_request,
)

from .conftest import BOOKS_URL, minutes_ago

pytestmark = pytest.mark.django_db


def _sync(accounting_integration, tasks, owner=None) -> SyncRecord:
    record = sync_request(accounting_integration=accounting_integration, acting_user=owner)
    tasks.run()
    record.refresh_from_db()
    return record


def _sent_bodies():
    return [json.loads(call.request.body) for call in responses.calls]


@responses.activate
def test_the_first_sync_covers_every_order_up_to_the_time_it_started(
    accounting_integration, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1", at=minutes_ago(60 * 24 * 30))
    post_order("T2", at=minutes_ago(5))
    record = _sync(accounting_integration, tasks)
    assert record.status == SyncRecord.Status.SUCCESS
    assert record.window_start is None
    assert record.window_end == record.started_at
    assert record.order_count == 2
    assert sorted(b["reference"] for b in _sent_bodies()) == ["T1", "T2"]


@responses.activate
def test_the_window_takes_orders_created_or_modified_after_the_last_success_and_not_at_its_edge(
    accounting_integration, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    first = _sync(accounting_integration, tasks)
    edge = first.window_end
    post_order("AT-START", at=edge)  # exactly windowStart: sent by the first run already
    post_order("JUST-AFTER", at=edge + timedelta(microseconds=1))
    post_order("BEFORE", at=edge - timedelta(seconds=1))
    modified = post_order("MODIFIED", at=edge - timedelta(days=3))
    modified.save()  # modified now: updated_at moves into the window
    later = _sync(accounting_integration, tasks)
    assert later.window_start == edge
    assert sorted(b["reference"] for b in _sent_bodies()) == ["JUST-AFTER", "MODIFIED"]
    assert later.order_count == 2


@responses.activate
def test_an_order_modified_exactly_at_the_window_end_is_in_and_one_after_it_waits(
    accounting_integration, tasks, post_order, monkeypatch
):
    responses.post(BOOKS_URL, json={}, status=201)
    start = timezone.now()
    monkeypatch.setattr(sync_services, "timezone", SimpleNamespace(now=lambda: start))
    post_order("AT-END", at=start)
    post_order("AFTER-END", at=start + timedelta(microseconds=1))
    record = _sync(accounting_integration, tasks)
    assert record.window_end == start
    assert [b["reference"] for b in _sent_bodies()] == ["AT-END"]
    monkeypatch.setattr(sync_services, "timezone", timezone)
    _sync(accounting_integration, tasks)
    assert [b["reference"] for b in _sent_bodies()][-1] == "AFTER-END"


@responses.activate
def test_summarised_sync_sends_one_packet_per_business_date_and_payment_method(
    accounting_integration, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    accounting_integration.summarize_data = True
    accounting_integration.save()
    post_order("T1", payments=[("VISA", "21.60")])
    post_order(
        "T2",
        items=[("Classes", "0.0800", "1", "20.00"), ("Retail", "0.0000", "1", "10.00")],
        payments=[("VISA", "11.60"), ("CASH", "20.00")],
    )
    record = _sync(accounting_integration, tasks)
    packets = {p.key: p for p in record.packets.all()}
    assert set(packets) == {"2026-11-20/VISA", "2026-11-20/CASH"}
    bodies = {b["reference"]: b for b in _sent_bodies()}
    assert bodies["2026-11-20/VISA"]["payments"] == [{"depositAccount": "1200", "amount": "33.20"}]
    assert bodies["2026-11-20/CASH"]["payments"] == [{"depositAccount": "1000", "amount": "20.00"}]
    for body in bodies.values():
        [payment] = body["payments"]
        lines = sum(float(x["netAmount"]) + float(x["taxAmount"]) for x in body["lines"])
        assert round(lines, 2) == float(payment["amount"])


@responses.activate
def test_each_packet_is_posted_with_an_idempotency_key_and_2xx_marks_it_sent(
    accounting_integration, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=200)
    post_order("T1")
    record = _sync(accounting_integration, tasks)
    [packet] = record.packets.all()
    assert packet.state == Packet.State.SENT
    assert packet.response_code == 200
    assert responses.calls[0].request.headers["Idempotency-Key"] == packet.idempotency_key


@responses.activate
def test_a_refused_packet_is_failed_with_status_and_excerpt_and_the_record_is_still_success(
    accounting_integration, tasks, post_order
):
    responses.post(BOOKS_URL, body="ledger locked for month end", status=503)
    post_order("T1")
    record = _sync(accounting_integration, tasks)
    [packet] = record.packets.all()
    assert record.status == SyncRecord.Status.SUCCESS  # reference 004: sends do not decide
    assert packet.state == Packet.State.FAILED
    assert packet.response_code == 503
    assert "ledger locked" in packet.error


@responses.activate
def test_an_unmapped_value_fails_the_record_before_anything_is_sent_and_the_next_sync_retries(
    accounting_integration, tasks, post_order
):
    """Reference 004: processing (build, map, check every packet) comes before sending."""
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    post_order("T2", payments=[("AMEX", "21.60")])
    post_order("T3", payments=[("GIFT", "21.60")])
    record = _sync(accounting_integration, tasks)

    assert record.status == SyncRecord.Status.FAILED
    assert "no PAYMENT_METHOD map for 'AMEX'" in record.failure_reason
    assert "no PAYMENT_METHOD map for 'GIFT'" in record.failure_reason
    assert record.packets.count() == 0
    assert len(responses.calls) == 0

    accounting_integration.maps.create(kind="PAYMENT_METHOD", source="AMEX", target="1220")
    accounting_integration.maps.create(kind="PAYMENT_METHOD", source="GIFT", target="2400")
    rerun = _sync(accounting_integration, tasks)
    assert rerun.status == SyncRecord.Status.SUCCESS
    assert rerun.window_start == record.window_start  # the failed run did not move it
    assert sorted(b["reference"] for b in _sent_bodies()) == ["T1", "T2", "T3"]
    t2 = next(b for b in _sent_bodies() if b["reference"] == "T2")
    assert t2["payments"] == [{"depositAccount": "1220", "amount": "21.60"}]


@responses.activate
def test_resend_sends_only_the_failed_packets_with_their_idempotency_keys(
    accounting_integration, tasks, post_order
):
    refusing = {"T2"}

    def receiver(request):
        is_refused = json.loads(request.body)["reference"] in refusing
        return (500, {}, "try later") if is_refused else (201, {}, "{}")

    responses.add_callback(responses.POST, BOOKS_URL, callback=receiver)
    for key in ("T1", "T2", "T3"):
        post_order(key)
    record = _sync(accounting_integration, tasks)
    failed = record.packets.get(key="T2")
    assert failed.state == Packet.State.FAILED
    first_key = responses.calls[1].request.headers["Idempotency-Key"]
    refusing.clear()
    calls_before = len(responses.calls)

    packets_resend(sync_record=record, acting_user=None)
    tasks.run()

    resent = responses.calls[calls_before:]
    assert [json.loads(c.request.body)["reference"] for c in resent] == ["T2"]
    assert resent[0].request.headers["Idempotency-Key"] == first_key == failed.idempotency_key
    failed.refresh_from_db()
    assert failed.state == Packet.State.SENT
    assert failed.attempts == 2


@responses.activate
def test_a_crash_halfway_leaves_the_window_and_the_rerun_covers_the_same_orders(
    accounting_integration, tasks, post_order, monkeypatch
):
    responses.post(BOOKS_URL, json={}, status=201)
    first = _sync(accounting_integration, tasks)
    for n in range(5):
        post_order(f"T{n}")
    real = GenericAdapter.build
    mapped = []

    def crash_on_the_third(adapter, key, content, maps):
        mapped.append(key)
        if len(mapped) == 3:
            raise RuntimeError("worker lost its database connection")
        return real(adapter, key, content, maps)

    monkeypatch.setattr(GenericAdapter, "build", crash_on_the_third)
    crashed = _sync(accounting_integration, tasks)
    assert crashed.status == SyncRecord.Status.FAILED
    assert "worker lost" in crashed.failure_reason
    assert crashed.packets.count() == 0
    assert len(responses.calls) == 0

    monkeypatch.setattr(GenericAdapter, "build", real)
    rerun = _sync(accounting_integration, tasks)
    assert rerun.window_start == first.window_end  # the failed run did not move it
    assert rerun.status == SyncRecord.Status.SUCCESS
    assert sorted(b["reference"] for b in _sent_bodies()) == [f"T{n}" for n in range(5)]


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from the inside: nothing after it runs, no except catches it."""


@responses.activate
def test_a_worker_killed_while_delivering_leaves_the_window_and_the_rerun_repeats_its_keys(
    accounting_integration, tasks, post_order, monkeypatch
):
    responses.post(BOOKS_URL, json={}, status=201)
    first = _sync(accounting_integration, tasks)
    for n in range(3):
        post_order(f"T{n}")
    real_send = delivery_services._Slice.send

    def killed_after_the_first(current, packet, claim):
        if len(responses.calls) == 1:
            raise WorkerKilled
        return real_send(current, packet, claim)

    monkeypatch.setattr(delivery_services._Slice, "send", killed_after_the_first)
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    with pytest.raises(WorkerKilled):
        tasks.run()
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.IN_PROGRESS
    assert record.packets.filter(state=Packet.State.SENT).count() == 1
    keys_of_the_killed_run = dict(record.packets.values_list("key", "idempotency_key"))

    later = timezone.now() + sync_services.STUCK_AFTER + timedelta(minutes=1)
    with monkeypatch.context() as clock:
        clock.setattr(sync_services.timezone, "now", lambda: later)
        assert sync_records_watchdog() == [record.pk]
    monkeypatch.setattr(delivery_services._Slice, "send", real_send)
    # Ten minutes on, the killed delivery's claims (a few timeouts long) have expired.
    Packet.objects.update(claimed_until=None)
    ExportedKey.objects.update(claimed_until=None)
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.FAILED
    assert "window did not move" in record.failure_reason

    tasks.clear()
    rerun = _sync(accounting_integration, tasks)
    assert rerun.status == SyncRecord.Status.SUCCESS
    assert rerun.window_start == first.window_end
    sent = responses.calls[1:]
    assert sorted(json.loads(c.request.body)["reference"] for c in sent) == ["T0", "T1", "T2"]
    # The packet delivered before the kill goes again with the same key: the receiver can
    # tell it is a repeat.
    keys = {
        json.loads(c.request.body)["reference"]: c.request.headers["Idempotency-Key"] for c in sent
    }
    assert keys == keys_of_the_killed_run


def test_the_watchdog_fails_a_record_stuck_in_progress_and_the_window_stays(
    accounting_integration, post_order
):
    last = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=SyncRecord.Status.SUCCESS,
        requested_at=minutes_ago(120),
        window_end=minutes_ago(120),
    )
    stuck = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=SyncRecord.Status.IN_PROGRESS,
        requested_at=minutes_ago(60),
        started_at=minutes_ago(60),
        window_start=last.window_end,
        window_end=minutes_ago(60),
    )
    SyncRecord.objects.filter(pk=stuck.pk).update(updated_at=minutes_ago(11))

    assert sync_records_watchdog() == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.status == SyncRecord.Status.FAILED
    assert "No progress" in stuck.failure_reason
    assert window_start_for(accounting_integration) == last.window_end


def test_the_watchdog_leaves_a_record_that_is_still_beating(accounting_integration):
    running = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=SyncRecord.Status.IN_PROGRESS,
        requested_at=minutes_ago(30),
        started_at=minutes_ago(30),
    )
    assert sync_records_watchdog() == []
    running.refresh_from_db()
    assert running.status == SyncRecord.Status.IN_PROGRESS


def test_a_record_failed_by_the_watchdog_is_not_marked_success_by_its_late_run(
    accounting_integration, tasks, post_order
):
    post_order("T1")
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    SyncRecord.objects.filter(pk=record.pk).update(status=SyncRecord.Status.FAILED)
    sync_record_run(sync_record_id=record.pk)
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.FAILED
    assert record.packets.count() == 0


@pytest.mark.django_db(transaction=True)
@responses.activate
def test_no_packet_is_sent_inside_a_database_transaction(tasks, post_order):
    from tests.factories import AccountingIntegrationFactory

    accounting_integration = AccountingIntegrationFactory()
    accounting_integration.maps.create(kind="PAYMENT_METHOD", source="VISA", target="1200")
    accounting_integration.maps.create(kind="REVENUE_CATEGORY", source="Classes", target="4")
    accounting_integration.maps.create(kind="TAX_RATE", source="0.08", target="T")
    in_transaction = []

    def callback(request):
        in_transaction.append(connection.in_atomic_block)
        return 201, {}, "{}"

    responses.add_callback(responses.POST, BOOKS_URL, callback=callback)
    post_order("T1")
    post_order("T2")
    record = _sync(accounting_integration, tasks)
    assert record.status == SyncRecord.Status.SUCCESS
    assert in_transaction == [False, False]
