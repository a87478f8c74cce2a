"""Accounting delivery (DESIGN.md, "Performance budgets"): 2,000 GENERIC packets to a receiver
answering in 50 ms, delivered by `sync_record_deliver` (a claim per packet, a heartbeat, the
state written after each answer) ÷ a bare `requests.Session` loop posting the same bodies to
the same receiver (budget ≥ 0.8 in throughput). Never asserts.

    .venv/bin/python bench/accounting_delivery.py [PACKETS]
"""

import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_setup

ANSWER_SECONDS = 0.05


class SlowReceiver(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # else delayed ACKs cap keep-alive exchanges at ~40 ms
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(ANSWER_SECONDS)
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def record_create(base_url: str, count: int):
    from accounting.models import AccountingIntegration, Packet, SyncRecord
    from accounting.services.delivery import idempotency_key_for
    from accounting.services.sync import ledger_commit
    from integration_hub.models import Integration, Subscriber

    endpoint = Integration.objects.create(name="Books", kind="ACCOUNTING", base_url=base_url)
    accounting_integration = AccountingIntegration.objects.create(
        subscriber=Subscriber.objects.create(name="Bench"),
        integration_type="GENERIC",
        integration=endpoint,
    )
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status="InProgress",
        requested_at="2026-11-20T10:00:00Z",
    )
    payloads = [
        {
            "reference": f"2026-11-20/VISA/{n}",
            "date": "2026-11-20",
            "payments": [{"depositAccount": "1200", "amount": "21.60"}],
            "lines": [
                {"account": "4000", "taxCode": "TAX8", "netAmount": "20.00", "taxAmount": "1.60"}
            ],
        }
        for n in range(count)
    ]
    Packet.objects.bulk_create(
        Packet(
            sync_record=record,
            key=payload["reference"],
            content={},
            payload=payload,
            idempotency_key=idempotency_key_for(
                accounting_integration_id=accounting_integration.pk,
                key=payload["reference"],
                payload=payload,
            ),
        )
        for payload in payloads
    )
    ledger_commit(sync_record=record)  # the packets become their keys' current truth
    return record, payloads


def bare_loop(url: str, payloads) -> float:
    import requests

    from accounting.services.delivery import packet_body

    session = requests.Session()
    started = time.perf_counter()
    for payload in payloads:
        response = session.post(
            url,
            data=packet_body(payload),
            headers={"Content-Type": "application/json", "Idempotency-Key": "x"},
            timeout=15,
        )
        response.raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        django_setup(Path(tmp))
        import integration_hub.services.jobs as jobs
        from accounting.services.delivery import sync_record_deliver

        jobs._task_send = lambda task: None  # one slice, as long as it takes
        server = ThreadingHTTPServer(("127.0.0.1", 0), SlowReceiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/books"
        record, payloads = record_create(url, count)

        bare = bare_loop(url, payloads)
        started = time.perf_counter()
        record = sync_record_deliver(sync_record_id=record.pk, slice_seconds=3600)
        delivered = time.perf_counter() - started
        sent = record.packets.filter(state="Sent").count()
        server.shutdown()

        print(f"bare requests.Session loop, {count} POSTs answered in 50 ms: {bare:.2f} s")
        print(f"sync_record_deliver, {sent} of {count} packets Sent: {delivered:.2f} s")
        print(f"  throughput ratio delivery / bare loop: {bare / delivered:.2f}  (budget >= 0.8)")


if __name__ == "__main__":
    main()
