"""A local HTTP listener that records every request it receives: the "host of its choosing"
of a reproduction, or a partner answering over real HTTP."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# `serve_forever(**PROMPT_SHUTDOWN)`: shutdown() waits until the serving loop next looks, by
# default every 0.5 s, which each test stopping a local server paid.
PROMPT_SHUTDOWN = {"poll_interval": 0.01}


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Listener:
    """Answers POST .../token with a new access token (`<token>-1`, `<token>-2`, ...) and
    everything else with 200 {}."""

    token: str = "listener-token"
    delay: float = 0.0  # seconds each answer takes
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        listener = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                listener.received.append(
                    Received(self.command, self.path, dict(self.headers.items()), body)
                )
                if listener.delay:
                    time.sleep(listener.delay)
                if self.path.endswith("/token"):
                    issued = sum(r.path.endswith("/token") for r in listener.received)
                    payload = {"access_token": f"{listener.token}-{issued}", "expires_in": 3600}
                else:
                    payload = {}
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs=PROMPT_SHUTDOWN, daemon=True
        ).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def authorizations(self) -> list[str]:
        """Every Authorization header received (HTTP Basic holds the client id and secret)."""
        return [r.headers["Authorization"] for r in self.received if "Authorization" in r.headers]
