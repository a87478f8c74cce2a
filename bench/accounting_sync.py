"""Accounting sync: time, memory and History queries (DESIGN.md, "Performance budgets").

Prints, in one run:
- sync of 100,000 summarised orders (about 3 items and 1-2 payments each) ÷ the time to
  iterate the same orders once with their items and payments prefetched (budget ≤ 2);
- peak memory of the sync at 100,000 ÷ at 10,000 orders (budget ≤ 1.2; tracemalloc);
- SQL queries of a History page of 10 and of 100 records (budget: equal).
Packets are POSTed to a local receiver (http.server, Nagle off). Never asserts.

    .venv/bin/python bench/accounting_sync.py
"""

import random
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_setup

CATALOGUE = [
    ("Classes", Decimal("0.0800"), Decimal("20.00")),
    ("Classes", Decimal("0.0800"), Decimal("25.00")),
    ("Retail", Decimal("0.0800"), Decimal("2.50")),
    ("Retail", Decimal("0.0800"), Decimal("35.00")),
    ("Memberships", Decimal("0.0000"), Decimal("49.00")),
    ("Gift cards", Decimal("0.0000"), Decimal("50.00")),
]
METHODS = ["VISA", "MASTERCARD", "CASH", "AMEX"]
CENT = Decimal("0.01")


class Receiver(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # else delayed ACKs cap keep-alive exchanges at ~40 ms
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def orders_create(subscriber, count: int, prefix: str) -> None:
    from integration_hub.models import Order, OrderItem, OrderPayment

    rng = random.Random(count)
    start = date(2026, 7, 1)
    for offset in range(0, count, 5000):
        orders, lines = [], []
        for n in range(offset, min(count, offset + 5000)):
            items = [rng.choice(CATALOGUE) for _ in range(rng.choice([2, 3, 3, 4]))]
            nets = [price for _, _, price in items]
            taxes = [(price * rate).quantize(CENT) for _, rate, price in items]
            total = sum(nets) + sum(taxes)
            if rng.random() < 0.3:
                first = (total * Decimal(rng.randint(10, 90)) / 100).quantize(CENT)
                payments = [(rng.choice(METHODS), first), ("CASH", total - first)]
            else:
                payments = [(rng.choice(METHODS), total)]
            order = Order(
                subscriber=subscriber,
                retail_transaction_id=f"{prefix}{n:07d}",
                business_date=start + timedelta(days=n % 120),
                currency="USD",
                subtotal=sum(nets),
                tax_total=sum(taxes),
                total=total,
            )
            orders.append(order)
            lines.append((items, nets, taxes, payments))
        Order.objects.bulk_create(orders)
        item_rows, payment_rows = [], []
        for order, (items, nets, taxes, payments) in zip(orders, lines, strict=True):
            for seq, ((category, rate, price), net, tax) in enumerate(
                zip(items, nets, taxes, strict=True), start=1
            ):
                item_rows.append(
                    OrderItem(
                        order=order,
                        sequence=seq,
                        revenue_category=category,
                        tax_rate=rate,
                        quantity=1,
                        unit_price=price,
                        net_amount=net,
                        tax_amount=tax,
                    )
                )
            for seq, (method, amount) in enumerate(payments, start=1):
                payment_rows.append(
                    OrderPayment(order=order, sequence=seq, payment_method=method, amount=amount)
                )
        OrderItem.objects.bulk_create(item_rows)
        OrderPayment.objects.bulk_create(payment_rows)


def integration_for(subscriber, base_url: str):
    from accounting.demo import DEMO_MAPS
    from accounting.services.integrations import accounting_integration_create
    from integration_hub.models import Integration

    integration = Integration.objects.create(
        name=f"Bench books {subscriber.pk}",
        kind=Integration.Kind.ACCOUNTING,
        base_url=base_url,
        auth_type=Integration.AuthType.NONE,
    )
    return accounting_integration_create(
        subscriber=subscriber,
        integration_type="GENERIC",
        integration=integration,
        summarize_data=True,
        maps=DEMO_MAPS,
    )


def sync_once(accounting_integration):
    from accounting.models import SyncRecord
    from accounting.services.sync import sync_record_run, sync_request

    SyncRecord.objects.filter(accounting_integration=accounting_integration).delete()
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    record = sync_record_run(sync_record_id=record.pk)
    assert record.status == "Success", record.failure_reason
    return record


def iterate_once(subscriber) -> int:
    from integration_hub.models import Order

    touched = 0
    orders = Order.objects.filter(subscriber=subscriber).prefetch_related("items", "payments")
    for order in orders.iterator(chunk_size=2000):
        for item in order.items.all():
            touched += item.net_amount > 0
        for payment in order.payments.all():
            touched += payment.amount > 0
    return touched


def peak_memory(accounting_integration) -> int:
    tracemalloc.start()
    sync_once(accounting_integration)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def history_queries(accounting_integration, owner, page_size: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="127.0.0.1")
    # A fresh user object per request, as token authentication gives (roles are cached on it).
    client.force_authenticate(type(owner).objects.get(pk=owner.pk))
    url = (
        f"/Subscriber_{accounting_integration.subscriber_id}/AccountingIntegration/"
        f"Type_{accounting_integration.integration_type}/History"
    )
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"pageSize": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    return len(captured)


def history_create(accounting_integration, *, before) -> object:
    """100 records of 5 packets each, and the Owner who reads their History."""
    from accounting.models import Packet, SyncRecord
    from integration_hub.models import SubscriberOwner, User
    from integration_hub.services.roles import role_grant

    subscriber = accounting_integration.subscriber
    owner = User.objects.create_user("bench-owner")
    role_grant(user=owner, role="Owner", subscriber=subscriber)
    SubscriberOwner.objects.get_or_create(user=owner, subscriber=subscriber)
    SyncRecord.objects.filter(accounting_integration=accounting_integration).delete()
    for n in range(100):
        history_record = SyncRecord.objects.create(
            accounting_integration=accounting_integration,
            status="Success",
            requested_at=before - timedelta(minutes=n),
        )
        Packet.objects.bulk_create(
            Packet(
                sync_record=history_record,
                key=f"2026-11-{k:02d}/VISA",
                content={},
                idempotency_key=f"{n}-{k}",
            )
            for k in range(1, 6)
        )
    return owner


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        django_setup(Path(tmp))
        import integration_hub.services.jobs as jobs
        from integration_hub.models import Subscriber

        jobs._task_send = lambda task: None  # the bench runs the job itself
        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{server.server_port}/books"

        small = Subscriber.objects.create(name="Bench 10k")
        large = Subscriber.objects.create(name="Bench 100k")
        print("creating 10,000 + 100,000 orders ...", flush=True)
        orders_create(small, 10_000, "S")
        orders_create(large, 100_000, "L")
        small_ai = integration_for(small, base_url)
        large_ai = integration_for(large, base_url)

        iterate_once(large)  # warm the page cache for both
        started = time.perf_counter()
        iterate_once(large)
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        record = sync_once(large_ai)
        synced = time.perf_counter() - started
        packets = record.packets.count()

        memory_small = peak_memory(small_ai)
        memory_large = peak_memory(large_ai)

        owner = history_create(large_ai, before=record.requested_at)
        queries_10 = history_queries(large_ai, owner, 10)
        queries_100 = history_queries(large_ai, owner, 100)
        server.shutdown()

        print(f"iterate 100,000 orders with items+payments prefetched: {baseline:.2f} s")
        print(f"sync 100,000 summarised orders ({packets} packets POSTed): {synced:.2f} s")
        print(f"  ratio sync / iterate: {synced / baseline:.2f}  (budget <= 2)")
        print(f"peak memory of a sync, 10,000 orders: {memory_small / 1e6:.1f} MB")
        print(f"peak memory of a sync, 100,000 orders: {memory_large / 1e6:.1f} MB")
        print(f"  ratio 100k / 10k: {memory_large / memory_small:.2f}  (budget <= 1.2)")
        print(f"History page queries: 10 records {queries_10}, 100 records {queries_100}")
        print(f"  ratio 100 / 10: {queries_100 / queries_10:.2f}  (budget: 1.00)")


if __name__ == "__main__":
    main()
