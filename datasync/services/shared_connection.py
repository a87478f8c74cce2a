"""One database connection for a whole Data Sync run, whatever its number of threads
(DESIGN.md: a run holds at most 4 database connections whatever its concurrency).

The run's own thread opens it; its heartbeat thread and its HTTP threads borrow it, one at
a time, under `lock` (Django allows a connection to be shared between threads once told
so). The HTTP threads need it only when the receiver's OAuth2 token must be read or stored;
`LockedAuth` has the lock taken around exactly those statements (not the fetch itself).
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

from integration_hub.outbound.auth import OutboundAuth


class SharedConnection:
    def __init__(self):
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.lock = threading.RLock()

    @contextmanager
    def shared(self) -> Iterator["SharedConnection"]:
        """While inside, other threads may `borrow()` this connection."""
        self.connection.inc_thread_sharing()
        try:
            yield self
        finally:
            self.connection.dec_thread_sharing()

    def borrow(self) -> None:
        """Make this thread's default connection the shared one (call once, at the start of
        a thread the run starts); use it only while holding `lock`."""
        connections[DEFAULT_DB_ALIAS] = self.connection


class LockedAuth(OutboundAuth):
    """An outbound client's authentication shared by a run's HTTP threads. Its database
    statements (token reads and writes) take the shared connection's lock, and only they:
    a token fetch over HTTP never holds the connection, so the heartbeat and the run go on
    meanwhile. One thread at a time gets or refreshes the token, and when several threads
    get a 401 for one token, it is discarded (and a new one fetched) once."""

    def __init__(
        self,
        inner: OutboundAuth,
        shared: SharedConnection,
        *,
        before_send: Callable[[], None] | None = None,
    ):
        self.inner = inner
        inner.db_guard = shared.lock
        self.origin = inner.origin
        self.sends_credentials = inner.sends_credentials
        # Called with the headers ready, right before the request goes out: a token fetch
        # may have taken long, and the caller checks its lease after it.
        self.before_send = before_send
        self._token_lock = threading.Lock()
        self._generation = 0  # how many times the token was discarded
        self._seen = threading.local()  # the generation each thread last sent

    def headers(self, *, timeout) -> dict[str, str]:
        with self._token_lock:
            self._seen.generation = self._generation
            headers = self.inner.headers(timeout=timeout)
        if self.before_send is not None:
            self.before_send()
        return headers

    def token_discard(self) -> bool:
        with self._token_lock:
            if getattr(self._seen, "generation", None) != self._generation:
                return True  # another thread discarded that token already: retry with its new one
            self._generation += 1
            return self.inner.token_discard()

    def __repr__(self) -> str:
        return repr(self.inner)
