"""A real local receiver over HTTP for Data Sync's integration tests: an OAuth2 token
endpoint at /token and the API at /api, answering as the test says (status, Retry-After,
a redirect, a hang), and recording every delivery."""

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.listener import PROMPT_SHUTDOWN


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    started: float = 0.0  # time.monotonic() when the request arrived
    finished: float = 0.0  # ... and when it was answered
    status: int = 200

    @property
    def messages(self) -> list[dict]:
        return json.loads(self.body)["messages"]


@dataclass
class Behaviour:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok": true}'
    hang_seconds: float = 0.0
    valid_token: str | None = None  # when set, any other Bearer token gets a 401
    latency: tuple[float, float] | None = None  # answer after a random time in this range
    gate: threading.Event | None = None  # when set, API calls wait until it opens
    # Answer 400 to a body whose messages this says are bad (and record no delivery).
    reject: Callable[[list[dict]], bool] | None = None


class LocalReceiver:
    def __init__(self):
        self.deliveries: list[Delivery] = []
        self.rejected: list[Delivery] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._count_lock = threading.Lock()
        self.behaviour = Behaviour()
        self.tokens_issued = 0
        self.token_lifetime = 3600
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # else delayed ACKs cap each exchange at ~40 ms
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path.startswith("/token"):
                    receiver.tokens_issued += 1
                    token = f"token-{receiver.tokens_issued}"
                    return self._answer(
                        200,
                        json.dumps(
                            {
                                "access_token": token,
                                "token_type": "Bearer",
                                "expires_in": receiver.token_lifetime,
                            }
                        ).encode(),
                    )
                behaviour = receiver.behaviour
                auth = self.headers.get("Authorization", "")
                if behaviour.valid_token and auth != f"Bearer {behaviour.valid_token}":
                    return self._answer(401, b'{"error": "invalid_token"}')
                started = time.monotonic()
                with receiver._count_lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                try:
                    if behaviour.gate is not None:
                        behaviour.gate.wait(timeout=60)
                    if behaviour.hang_seconds:
                        receiver._release.wait(behaviour.hang_seconds)
                    if behaviour.latency:
                        time.sleep(random.uniform(*behaviour.latency))  # noqa: S311
                finally:
                    with receiver._count_lock:
                        receiver.in_flight -= 1
                delivery = Delivery(dict(self.headers.items()), body, started, time.monotonic())
                if behaviour.reject and behaviour.reject(delivery.messages):
                    delivery.status = 400
                    receiver.rejected.append(delivery)
                    return self._answer(400, b'{"error": "bad message"}')
                receiver.deliveries.append(delivery)
                self._answer(behaviour.status, behaviour.body, behaviour.headers)

            def _answer(self, status, body, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs=PROMPT_SHUTDOWN, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def messages(self) -> list[dict]:
        return [m for d in self.deliveries for m in d.messages]

    def start(self) -> "LocalReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        time.sleep(0)
