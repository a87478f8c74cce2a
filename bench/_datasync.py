"""What the Data Sync lane benchmarks share: a threaded receiver in its own process that
answers each API POST after a delay and remembers what arrived, queued customer records with
their lanes, and the check of what arrived against what was queued. Not a benchmark itself.
"""

import json
import multiprocessing
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

TOKEN = b'{"access_token": "bench", "token_type": "Bearer", "expires_in": 3600}'


def _serve(port_queue, delay: float) -> None:
    """The receiver: /token answers at once; every other POST is an API call, answered
    `delay` seconds after it arrived, its messages noted in arrival order as
    [arrival time, uniqueId, customerID, benchRecord]. GET /count, GET /report, POST /reset."""
    arrived: list[list] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else delayed ACKs cap each exchange at ~40 ms
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with lock:
                if self.path.startswith("/report"):
                    body = json.dumps(arrived).encode()
                else:
                    body = json.dumps(len(arrived)).encode()
            self.answer(body)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/token"):
                self.answer(TOKEN)
                return
            if self.path.startswith("/reset"):
                with lock:
                    arrived.clear()
                self.answer(b"{}")
                return
            now = time.time()
            rows = []
            for message in json.loads(raw)["messages"]:
                payload = json.loads(message["payload"])
                rows.append(
                    [now, int(message["uniqueId"]), payload["customerID"], payload["benchRecord"]]
                )
            with lock:
                arrived.extend(rows)
            time.sleep(delay)
            self.answer(b'{"ok": true}')

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a client killed mid-request (the takeover bench does that)

    server = Server(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time() when its POST arrived
    unique_id: int
    customer: str
    record: int  # the bench's own number for the record (not its uniqueId)


class Receiver:
    """The receiver process, and what the bench asks it."""

    def __init__(self, *, delay: float):
        ports = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_serve, args=(ports, delay), daemon=True)
        self.process.start()
        self.base = f"http://127.0.0.1:{ports.get(timeout=10)}"
        self.session = requests.Session()

    def count(self) -> int:
        return self.session.get(f"{self.base}/count", timeout=10).json()

    def report(self) -> list[Arrival]:
        return [Arrival(*row) for row in self.session.get(f"{self.base}/report", timeout=60).json()]

    def reset(self) -> None:
        self.session.post(f"{self.base}/reset", timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()


def datasync_configure(receiver: Receiver) -> None:
    from integration_hub.services.credentials import credential_set
    from integration_hub.services.system_settings import setting_set

    credential_set(key_name="datasync", client_id="bench", client_secret="bench-secret")  # noqa: S106
    setting_set(key="DataSyncApiUrl", value=f"{receiver.base}/api")
    setting_set(key="DataSyncTokenUrl", value=f"{receiver.base}/token")


@dataclass(frozen=True)
class Queued:
    """What was queued: each record's customer and capture number (its uniqueId)."""

    customer_of: dict[int, str]  # bench record -> customer
    unique_id_of: dict[int, int]  # bench record -> capture number
    lane_of_customer: dict[str, int]


def customer_records_queue(*, count: int, customers: int, seed: int = 3) -> Queued:
    """`count` pending customer UPDATE records, count/customers per customer in a shuffled
    order, with their lanes and increasing capture numbers taken in one transaction (as
    capture does, one number per record)."""
    from django.db import transaction

    from datasync.models import CustomerPendingRecord, ProgressRecord
    from datasync.services.queues import capture_number_next, lane_for

    owners = [f"C{n % customers}" for n in range(count)]
    random.Random(seed).shuffle(owners)
    lanes = {
        customer: lane_for(subscriber_id=1, customer_key=customer, unique_id=customer)
        for customer in set(owners)
    }
    customer_of, unique_id_of = {}, {}
    batch = []
    with transaction.atomic():
        CustomerPendingRecord.objects.all().delete()
        ProgressRecord.objects.all().delete()
        for record, customer in enumerate(owners):
            number = capture_number_next()
            customer_of[record], unique_id_of[record] = customer, number
            batch.append(
                CustomerPendingRecord(
                    object_name="Customer",
                    unique_id=customer,
                    action="UPDATE",
                    json_object={
                        "customerID": customer,
                        "signupDate": "2026-11-20",
                        "benchRecord": record,
                    },
                    capture_order=number,
                    subscriber_id=1,
                    customer_key=customer,
                    lane=lanes[customer],
                )
            )
            if len(batch) == 5000:
                CustomerPendingRecord.objects.bulk_create(batch)
                batch = []
        CustomerPendingRecord.objects.bulk_create(batch)
    return Queued(customer_of=customer_of, unique_id_of=unique_id_of, lane_of_customer=lanes)


@dataclass(frozen=True)
class Check:
    lost: int  # queued records that never arrived
    duplicated: int  # arrivals beyond a record's first
    same_unique_id: bool  # every arrival of a record carried the record's capture number
    order_kept: bool  # each customer's records first arrived in capture order
    customers_out_of_order: int

    def lines(self) -> list[str]:
        order = "yes" if self.order_kept else f"no ({self.customers_out_of_order} customers)"
        same = "yes" if self.same_unique_id else "no"
        return [
            f"order kept: {order}",
            f"lost: {self.lost}, delivered twice or more: {self.duplicated}"
            f" (every arrival with its record's uniqueId: {same})",
        ]


def arrivals_check(queued: Queued, arrivals: list[Arrival]) -> Check:
    seen: dict[int, int] = {}
    duplicated = 0
    same = True
    firsts: dict[str, list[int]] = defaultdict(list)  # customer -> uniqueIds, first arrivals
    for arrival in arrivals:
        same &= queued.unique_id_of.get(arrival.record) == arrival.unique_id
        if arrival.record in seen:
            duplicated += 1
            continue
        seen[arrival.record] = arrival.unique_id
        firsts[arrival.customer].append(arrival.unique_id)
    out_of_order = sum(numbers != sorted(numbers) for numbers in firsts.values())
    return Check(
        lost=len(set(queued.customer_of) - set(seen)),
        duplicated=duplicated,
        same_unique_id=same,
        order_kept=out_of_order == 0,
        customers_out_of_order=out_of_order,
    )
