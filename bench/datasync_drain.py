"""Data Sync benchmarks (DESIGN.md, "Performance budgets"). Prints ratios; never asserts.

One local receiver process (http.server with disable_nagle_algorithm, so delayed ACKs do not
cap each keep-alive exchange at ~40 ms) serves a token endpoint and the API. Against it:

1. drain of 20,000 records at 1 message per POST ÷ a bare requests.Session loop posting the
   same bodies (budget ≥ 0.8);
2. the speed-up at 100 messages per POST (budget ≥ 20x);
3. capture overhead on 10,000 customer saves, on ÷ off: on PostgreSQL (budget ≤ 1.3; also
   on ÷ off with the capture trigger switched off, so its cost while off is counted too) and
   on SQLite (reported);
4. 100,000 ÷ 10,000 records drained, at 100 messages per POST (budget ≤ 11).

    .venv/bin/python bench/datasync_drain.py [--small] [--capture-only]

--small runs a tenth of each (1,000 saves); --capture-only runs part 3 alone. The PostgreSQL
capture runs in a child process on a database of its own, created on the server named by
BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) and dropped after;
when that server cannot be reached the PostgreSQL figure is skipped with a note.
"""

import json
import multiprocessing
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_setup, postgres_child_run


def _serve(port_queue) -> None:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/token"):
                body = b'{"access_token": "bench", "token_type": "Bearer", "expires_in": 3600}'
            else:
                body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def queue_records(count: int) -> None:
    from django.db import transaction

    from datasync.models import CustomerPendingRecord
    from datasync.services.queues import capture_number_next

    sample = {
        "customerID": "C0",
        "signupDate": "2026-11-20",
        "entityInformation": {"individual": {"name": {"name": [{"location": "FIRST"}]}}},
        "customerNotes": {"customerNote": []},
    }
    batch = []
    with transaction.atomic():  # capture numbers come from the database: one commit
        for n in range(count):
            batch.append(
                CustomerPendingRecord(
                    object_name="Customer",
                    unique_id=f"C{n}",
                    action="UPDATE",
                    json_object={**sample, "customerID": f"C{n}"},
                    capture_order=capture_number_next(),
                    subscriber_id=1,
                    customer_key=f"C{n}",
                )
            )
            if len(batch) == 5000:
                CustomerPendingRecord.objects.bulk_create(batch)
                batch = []
        CustomerPendingRecord.objects.bulk_create(batch)


def drain(count: int, per_request: int) -> float:
    from datasync.models import ProgressRecord, SyncRun
    from datasync.services.run import datasync_run
    from integration_hub.services.system_settings import setting_set

    setting_set(key="DataSyncMessagesPerRequest", value=per_request)
    setting_set(key="DataSyncBatchSize", value=1000)
    queue_records(count)
    started = time.perf_counter()
    while True:
        run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
        assert run.status == "SUCCEEDED", run.last_error
        if not run.has_more:
            break
    elapsed = time.perf_counter() - started
    assert not ProgressRecord.objects.exists()
    return elapsed


def bare_loop(api_url: str, count: int) -> float:
    import requests

    body = json.dumps(
        {
            "messages": [
                {
                    "action": "CUSTOMERMOD",
                    "payload": json.dumps({"customerID": "C1", "signupDate": "2026-11-20"}),
                    "type": "CUSTOMER",
                    "uniqueId": "1",
                }
            ]
        }
    ).encode()
    session = requests.Session()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
    started = time.perf_counter()
    for _ in range(count):
        session.post(api_url, data=body, headers=headers, timeout=15).content  # noqa: B018
    return time.perf_counter() - started


def capture_saves(count: int, enabled: bool) -> float:
    from datasync.models import CustomerPendingRecord
    from integration_hub.models import Customer
    from integration_hub.selectors import default_subscriber
    from integration_hub.services.customers import customer_create, customer_update
    from integration_hub.services.system_settings import setting_set

    setting_set(key="DataSyncEnabled", value=enabled)
    customer = Customer.objects.filter(customer_id="BENCH").first() or customer_create(
        subscriber=default_subscriber(), customer_id="BENCH"
    )
    started = time.perf_counter()
    for n in range(count):
        customer_update(customer=customer, first_name=f"N{n}-{enabled}")
    elapsed = time.perf_counter() - started
    CustomerPendingRecord.objects.all().delete()
    return elapsed


def _capture_trigger(enabled: bool) -> None:
    """PostgreSQL: switch the customer table's capture trigger on or off."""
    from django.db import connection

    state = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE integration_hub_customer {state} TRIGGER datasync_customer_updated"
        )


def capture_saves_untriggered(count: int) -> float:
    """Saves with Data Sync off and the capture trigger switched off: what a save costs
    with no capture installed at all."""
    _capture_trigger(enabled=False)
    try:
        return capture_saves(count, enabled=False)
    finally:
        _capture_trigger(enabled=True)


def capture_overhead(count: int, *, untriggered: bool = False) -> tuple[float, float, float]:
    """The best of three alternated runs each of `count` saves off and on (and, with
    `untriggered`, off without the PostgreSQL trigger; else 0): the first runs pay for
    warming the database (its file and WAL, or its caches), which would be charged to
    whichever ran first."""
    offs, ons, bares = [], [], []
    for _ in range(3):
        offs.append(capture_saves(count, enabled=False))
        ons.append(capture_saves(count, enabled=True))
        if untriggered:
            bares.append(capture_saves_untriggered(count))
    return min(offs), min(ons), min(bares, default=0.0)


def capture_report(vendor: str, count: int, off: float, on: float, budget: str) -> None:
    print(f"capture on {vendor}: {count} saves off {off:.2f} s, on {on:.2f} s (best of 3)")
    print(f"  overhead on / off:          {on / off:.2f}  ({budget})")


def capture_on_postgres(count: int) -> None:
    """Part 3 on PostgreSQL, on a database of its own (see postgres_child_run)."""
    postgres_child_run("capture on PostgreSQL", __file__, "--capture-child", str(count))


def capture_child(count: int, database_url: str) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        django_setup(Path(workdir), database_url=database_url)
        off, on, untriggered = capture_overhead(count, untriggered=True)
    capture_report("PostgreSQL", count, off, on, "budget <= 1.3")
    print(f"  off, capture trigger switched off: {untriggered:.2f} s")
    print(f"  on / off without the trigger: {on / untriggered:.2f}  (the trigger's cost included)")


def main() -> None:
    if sys.argv[1:2] == ["--capture-child"]:
        capture_child(int(sys.argv[2]), sys.argv[3])
        return
    small = "--small" in sys.argv
    n_drain, n_saves, n_growth = (2_000, 1_000, 1_000) if small else (20_000, 10_000, 10_000)
    if "--capture-only" in sys.argv:
        capture_on_postgres(n_saves)
        with tempfile.TemporaryDirectory() as workdir:
            django_setup(Path(workdir))
            off, on, _ = capture_overhead(n_saves)
        capture_report("SQLite", n_saves, off, on, "reported, no budget")
        return
    ports = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    receiver.start()
    port = ports.get(timeout=10)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as workdir:
        django_setup(Path(workdir))
        from integration_hub.services.credentials import credential_set
        from integration_hub.services.system_settings import setting_set

        credential_set(key_name="datasync", client_id="bench", client_secret="bench-secret")  # noqa: S106
        setting_set(key="DataSyncApiUrl", value=f"{base}/api")
        setting_set(key="DataSyncTokenUrl", value=f"{base}/token")

        bare = bare_loop(f"{base}/api", n_drain)
        one = drain(n_drain, 1)
        hundred = drain(n_drain, 100)
        print(f"bare requests.Session loop: {n_drain / bare:,.0f} POST/s")
        print(f"drain, 1 message per POST:  {n_drain / one:,.0f} records/s")
        print(f"  ratio to the bare loop:   {bare / one:.2f}  (budget >= 0.8)")
        print(f"drain, 100 messages per POST: {n_drain / hundred:,.0f} records/s")
        print(f"  speed-up over 1 per POST:   {one / hundred:.1f}x  (budget >= 20x)")

        capture_on_postgres(n_saves)
        off, on, _ = capture_overhead(n_saves)
        capture_report("SQLite", n_saves, off, on, "reported, no budget")

        small_run = drain(n_growth, 100)
        large_run = drain(n_growth * 10, 100)
        print(f"growth: {n_growth} records {small_run:.2f} s, {n_growth * 10} {large_run:.2f} s")
        print(f"  10x records / time ratio:   {large_run / small_run:.2f}  (budget <= 11)")
    receiver.terminate()


if __name__ == "__main__":
    main()
