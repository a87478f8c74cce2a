"""The Data Sync job (reference 003, "Data Sync Job"; DESIGN.md, "Data Sync": lanes).

1. the progress queue first; 2. pending to progress in batches of DataSyncBatchSize, each
batch one transaction that also deletes it from pending; 3. POSTs in capture order (progress
id order), one message per request or up to DataSyncMessagesPerRequest (of one lane, above
DataSyncConcurrency 1).

Who delivers what: every record is in one of 64 lanes (its customer's). At
DataSyncConcurrency 1 a run takes every lane's lease at once and delivers the whole queue in
global capture order, one POST at a time, as the reference does. Above 1 it takes up to that
many lanes, one lease each, delivers them side by side (threads doing the HTTP) and leaves
the rest to other runs, processes and clusters; a lane it has emptied is given back and
another taken. A heartbeat thread renews the leases; a POST is made only while its lane's
lease is known to be valid. A run holds one database connection, which its threads borrow in
turn (services/shared_connection.py).

No HTTP call is made inside a database transaction: records are read, the POST is sent, and
what it delivered is deleted afterwards, at most FLUSH_SECONDS after the oldest delivery not
yet deleted. A record's id is its message's uniqueId, so a crash between the 2xx and that
delete repeats the message with the same uniqueId. A failure stops the run (POSTs already
under way finish), keeps the record and its customer's later records queued in order,
counts an attempt and sets a backoff; a failed batch is first retried one message per POST,
so only the record that fails alone counts an attempt. A long drain stops after
`slice_seconds` (well inside django-q2's timeout) with `has_more` set, and its caller queues
the continuation.
"""

import contextvars
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from integration_hub.system_settings import setting_get

from ..metrics import DELIVERED, RUN_SECONDS, RUNS
from ..models import LaneLease, SyncRun
from ..payloads import body_from_messages, message_text
from .delivery import DeliveryFailed, Sender, backoff_seconds, delivery_client, webhook_id_for
from .lease import (
    LANES,
    heartbeat_seconds,
    lane_take,
    lanes_ensure,
    lanes_held_elsewhere,
    lanes_release,
    lanes_renew,
    lanes_take_all,
    lease_seconds,
)
from .queues import (
    QueuedRecord,
    lane_dead_customers,
    lane_work,
    lanes_with_work,
    pending_batch_move,
    pending_exists,
    progress_dead_letter,
    progress_delete,
    progress_failure_count,
    progress_records_after,
)
from .shared_connection import LockedAuth, SharedConnection

logger = logging.getLogger("datasync")

SLICE_SECONDS = 120.0  # django-q2 kills a task after 240 s
FLUSH_SECONDS = 0.1  # delivered records leave the queue at most this long after their 2xx
READ_CHUNK = 1000  # records read at once by the whole-queue deliverer
MOVES_PER_STEP = 5  # batches moved while holding the run's connection, between two waits
LANE_CHUNK = 200  # records read at once from one lane
LEASE_MARGIN = 0.2  # of a lease: no POST starts in its last fifth
LOOK_AGAIN_SECONDS = 0.5  # how often a run with room looks for lanes, or waits for one
# A holder is stale after missing two heartbeats: a run with nothing else to do watches a
# live holder's lanes a little longer than that before it leaves them to it.
WATCH_HEARTBEATS = 2.5
PENDING_RECHECK_SECONDS = 1.0  # new captures arrive all the time
SAVE_SECONDS = 2.0  # how often a running run's counts are written (its page shows them)
ERROR_CHARS = 1000
WHOLE_QUEUE = -1  # the stream key of the deliverer holding every lane


class RunConflict(Exception):
    """Another Data Sync run is active."""


class _LeaseLapsed(Exception):
    """This run can no longer vouch for the lane's lease: the POST is not sent."""


@dataclass
class _Stream:
    """What one deliverer (a lane, or the whole queue) has read and is sending."""

    lane: int  # WHOLE_QUEUE at concurrency 1
    cursor: int = 0  # the last progress id read
    rewound: bool = False  # read from the head again since the cursor last ran out
    buffer: deque = field(default_factory=deque)
    batch: list[QueuedRecord] | None = None  # being sent
    future: Future | None = None


@dataclass
class _Outcome:
    delivered: list[QueuedRecord]
    failed: list[QueuedRecord] = field(default_factory=list)
    failure: DeliveryFailed | None = None
    finished: float = 0.0  # monotonic time of the last 2xx
    took: float = 0.0
    lease_lapsed: bool = False
    error: Exception | None = None  # unexpected: the run ends with it


class _Run:
    def __init__(
        self,
        run: SyncRun,
        *,
        holder: str,
        honour_backoff: bool,
        slice_seconds: float,
        concurrency: int,
        shared: SharedConnection,
        more_lanes: Callable[[], None] | None,
    ):
        self.run = run
        self.holder = holder
        self.honour_backoff = honour_backoff
        self.deadline = time.monotonic() + slice_seconds
        self.concurrency = concurrency
        self.whole_queue = concurrency == 1
        self.shared = shared
        self.more_lanes = more_lanes
        self.per_request = int(setting_get("DataSyncMessagesPerRequest"))
        self.batch_size = int(setting_get("DataSyncBatchSize"))
        self.max_attempts = int(setting_get("DataSyncMaxAttempts"))
        self.lease = lease_seconds()
        self.renew_until = self.deadline + self.lease  # pushed back by a POST's timeout
        self.streams: dict[int, _Stream] = {}
        # lane -> monotonic time its lease was last taken or renewed (read by HTTP threads)
        self.renewed: dict[int, float] = {}
        self.handled: set[int] = set()  # progress ids this run has sent, deferred or skipped
        self.dead_customers: set[tuple[int, str]] = set()
        self.waiting_customers: set[tuple[int, str]] = set()
        self.exhausted: dict[int, tuple[int, int]] = {}  # lane -> (count, last id) when emptied
        self.delivered: list[int] = []
        self.delivered_since = 0.0
        self.expected_post_seconds = 0.0  # the slowest recent POST, fading slowly
        self.pending_maybe = True
        self.pending_checked = 0.0
        self.next_look = 0.0
        self.waiting_for_takeover = False
        self.watch_until: float | None = None
        self.asked_for_help = False
        self.lanes_lost = 0  # lanes whose lease this run could no longer vouch for
        self.unserved = 0  # free lanes with work this run had no room for, at its last look
        self.stopping: str | None = None  # "slice", "failed", "lost"
        self.failure: DeliveryFailed | None = None
        self.outcomes: list[tuple[_Stream, _Outcome]] = []
        self.next_save = time.monotonic() + SAVE_SECONDS
        self.sender: Sender | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.sending = threading.local()  # the stream this thread is POSTing for
        self.error: Exception | None = None
        self.moves_this_step = 0
        self.more_to_move = False

    # -- the loop ---------------------------------------------------------------------------
    def drain(self) -> None:
        """Deliver until nothing is left to this run, the slice ends or a delivery fails.
        The database is used only under the shared connection's lock; POSTs and waits
        happen outside it, so the heartbeat thread can always renew the leases."""
        lock = self.shared.lock
        with lock:
            client = delivery_client()
            client.auth = LockedAuth(client.auth, self.shared, before_send=self.lease_check)
            self.sender = Sender(client)
            # A POST outlives the slice by at most its timeout: leases stay renewed until then.
            self.renew_until = self.deadline + float(self.sender.timeout) + self.lease
        if not self.whole_queue:
            self.executor = ThreadPoolExecutor(
                max_workers=self.concurrency,
                thread_name_prefix=f"datasync-run-{self.run.pk}",
                initializer=self.shared.borrow,
            )
        try:
            while True:
                with lock:
                    if not self.step():
                        break
                self.send_or_wait()
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)
        if self.error is not None:
            raise self.error
        if self.failure is not None:
            raise self.failure

    def step(self) -> bool:
        """Everything between two waits: take in what the POSTs answered, then give every
        idle deliverer its next batch. False when the run is over."""
        for stream, outcome in self.outcomes:
            self.take_outcome(stream, outcome)
        self.outcomes = []
        if (
            self.unserved
            and self.run.sent
            and self.stopping is None
            and self.more_lanes is not None
            and not self.asked_for_help
        ):
            # More free lanes have work than this run delivers at once, and the receiver
            # takes what is sent: another worker (of any cluster) can take them. Not before
            # something went through: lanes whose records all wait out a backoff, or a
            # receiver that is down, must not chain runs back to back.
            self.asked_for_help = True
            self.more_lanes()
        self.moves_this_step = 0
        self.more_to_move = False
        now = time.monotonic()
        if now >= self.deadline and self.stopping is None:
            self.stopping = "slice"
        if self.stopping is None:
            self.drop_lapsed_lanes()
        if self.stopping is None:
            self.fill()
        if now >= self.next_save:
            self.progress_save()
        busy = any(stream.batch is not None for stream in self.streams.values())
        if self.more_to_move and self.stopping is None:
            return True  # more to move for an idle lane: after the lock is let go a moment
        if busy:
            # At concurrency 1 the POST about to be made blocks this thread: flush first
            # when it could keep the delivered records past FLUSH_SECONDS. Above 1 this
            # thread waits at most until the flush is due.
            ahead = self.expected_post_seconds if self.whole_queue else 0.0
            if self.delivered and time.monotonic() - self.delivered_since + ahead >= FLUSH_SECONDS:
                self.flush()
            return True
        self.flush()
        # Nothing to send now; go on only while a killed run's lanes will soon be free.
        return self.stopping is None and self.waiting_for_takeover

    def send_or_wait(self) -> None:
        """Outside the lock: make the POST (concurrency 1), or wait for the HTTP threads."""
        if self.executor is None:
            stream = self.streams.get(WHOLE_QUEUE)
            if stream is not None and stream.batch is not None:
                self.outcomes.append((stream, self.send(stream, stream.batch)))
            return
        for stream in self.streams.values():
            if stream.batch is not None and stream.future is None:
                # In a copy of this thread's context: the POST's log lines carry the run's
                # task id (or request id).
                stream.future = self.executor.submit(
                    contextvars.copy_context().run, self.send, stream, stream.batch
                )
        futures = {s.future: s for s in self.streams.values() if s.future is not None}
        now = time.monotonic()
        timeout = 0.0 if self.more_to_move else LOOK_AGAIN_SECONDS  # an idle lane awaits a move
        if self.delivered:
            timeout = min(timeout, max(0.0, self.delivered_since + FLUSH_SECONDS - now))
        if not futures:
            if not self.more_to_move:
                time.sleep(timeout)
            return
        done, _ = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            stream = futures[future]
            stream.future = None
            self.outcomes.append((stream, future.result()))

    # -- which lanes this run delivers ------------------------------------------------------
    def fill(self) -> None:
        """Give each idle deliverer its next batch; take more lanes while there is room (a
        lane taken may turn out to have nothing to send now, and moving records for it may
        fill other lanes: look again until nothing changes)."""
        while True:
            for stream in list(self.streams.values()):
                if stream.batch is None:
                    self.batch_next(stream)
            if self.whole_queue or len(self.streams) >= self.concurrency:
                return
            if self.streams and time.monotonic() < self.next_look:
                return
            if not self.lanes_look():
                return

    def batch_next(self, stream: _Stream) -> None:
        """The stream's next batch, reading and moving records as needed; when it has no
        more, its lanes are given back (a lane deliverer) or the run is done."""
        while True:
            batch = self.records_next(stream)
            if batch:
                stream.batch = batch
                return
            if self.pending_ready():
                if self.moves_this_step >= MOVES_PER_STEP:
                    self.more_to_move = True  # the next step moves on (the lock let go)
                    return
                if self.move():
                    continue
            if stream.lane != WHOLE_QUEUE:
                self.lane_give_back(stream)
            else:
                del self.streams[WHOLE_QUEUE]
            return

    def lanes_look(self) -> bool:
        """Take free lanes that have work, the oldest work first, up to the concurrency;
        True when it took any."""
        self.next_look = time.monotonic() + LOOK_AGAIN_SECONDS
        work = lanes_with_work()
        if not work and self.pending_ready() and self.move():
            work = lanes_with_work()
        live, stale, expired = lanes_held_elsewhere(holder=self.holder)
        # A killed run's lanes first, once their leases expired: their work was under way.
        work.sort(key=lambda found: found.lane not in expired)
        unserved = 0
        took = False
        for found in work:
            lane = found.lane
            if (
                lane in self.streams
                or lane in live
                or self.exhausted.get(lane) == (found.count, found.last_id)
            ):
                continue
            if len(self.streams) >= self.concurrency:
                unserved += lane not in stale
                continue
            started = time.monotonic()
            if lane_take(lane, holder=self.holder, run_id=self.run.pk):
                self.renewed[lane] = started
                self.streams[lane] = _Stream(lane=lane)
                self.dead_customers |= lane_dead_customers(lane)
                took = True
        self.unserved = unserved
        self.waiting_for_takeover = not self.streams and self.worth_waiting(live, stale, work)
        return took

    def worth_waiting(self, live: set[int], stale: set[int], work) -> bool:
        """With nothing to send, whether to wait for lanes with work that other runs hold:
        a holder that stopped beating was killed, and its leases expire soon; one that still
        beats is watched for WATCH_HEARTBEATS, in case it was killed a moment ago."""
        with_work = {w.lane for w in work}
        if stale & with_work:
            return True
        if not live & with_work:
            return False
        if self.watch_until is None:
            self.watch_until = time.monotonic() + WATCH_HEARTBEATS * heartbeat_seconds()
        return time.monotonic() < self.watch_until

    def lane_give_back(self, stream: _Stream) -> None:
        """Release an emptied lane, its delivered records removed first: the next holder
        must not find them queued."""
        self.flush()
        lane = stream.lane
        del self.streams[lane]
        self.renewed.pop(lane, None)
        lanes_release(holder=self.holder, lanes={lane})
        self.exhausted[lane] = lane_work(lane)
        self.next_look = 0.0  # its place goes to another lane at once

    def drop_lapsed_lanes(self) -> None:
        """A lane whose lease this run can no longer vouch for (its heartbeats failed, or
        another run took it) is dropped: its records stay queued for the new holder."""
        for key, stream in list(self.streams.items()):
            if stream.batch is not None or self.lease_valid(stream):
                continue
            if self.whole_queue:
                self.stopping = "lost"
                self.run.last_error = (
                    "Another run took the Data Sync lease (this run's heartbeat was late)."
                )
                return
            logger.warning("Data Sync run %s lost lane %s", self.run.pk, stream.lane)
            self.lanes_lost += 1
            del self.streams[key]
            self.renewed.pop(stream.lane, None)

    def lease_valid(self, stream: _Stream) -> bool:
        lanes = range(LANES) if stream.lane == WHOLE_QUEUE else (stream.lane,)
        oldest = min((self.renewed.get(lane, -1e9) for lane in lanes), default=-1e9)
        return time.monotonic() < oldest + self.lease * (1 - LEASE_MARGIN)

    # -- reading and moving -----------------------------------------------------------------
    def records_next(self, stream: _Stream) -> list[QueuedRecord]:
        """Up to DataSyncMessagesPerRequest records of the stream to send next, in order,
        skipping what must wait (backoff) or follows a dead letter."""
        batch: list[QueuedRecord] = []
        newly_dead: list[int] = []
        now = timezone.now()
        while len(batch) < self.per_request:
            if not stream.buffer and (batch or not self.read(stream)):
                break
            record = stream.buffer.popleft()
            if record.id in self.handled:
                continue
            self.handled.add(record.id)
            customer = record.customer
            if record.is_dead_letter:
                if customer:
                    self.dead_customers.add(customer)
                continue
            if customer in self.dead_customers:
                newly_dead.append(record.id)  # keeps the customer's order behind its dead
                continue
            if customer is not None and customer in self.waiting_customers:
                continue
            if (
                self.honour_backoff
                and record.next_attempt_at is not None
                and record.next_attempt_at > now
            ):
                if customer:
                    self.waiting_customers.add(customer)
                continue
            batch.append(record)
        if newly_dead:
            self.run.dead_lettered += progress_dead_letter(newly_dead)
        return batch

    def read(self, stream: _Stream) -> bool:
        """Read the stream's next records into its buffer. When the cursor has run out, the
        stream is read once more from its head: a record moved late (another run's move,
        or a capture number committed after higher ones) may sit behind the cursor."""
        lane = None if stream.lane == WHOLE_QUEUE else stream.lane
        limit = READ_CHUNK if lane is None else LANE_CHUNK
        records = progress_records_after(stream.cursor, limit=limit, lane=lane)
        if not records and not stream.rewound:
            stream.rewound = True
            stream.cursor = 0
            records = progress_records_after(0, limit=limit, lane=lane)
        if not records:
            return False
        stream.cursor = records[-1].id
        stream.buffer.extend(records)
        return True

    def pending_ready(self) -> bool:
        if not self.pending_maybe and time.monotonic() >= self.pending_checked:
            self.pending_maybe = pending_exists()
        return self.pending_maybe

    def move(self) -> bool:
        """One batch of DataSyncBatchSize from pending to progress; True when any moved."""
        self.moves_this_step += 1
        moved, lowest = pending_batch_move(batch_size=self.batch_size)
        self.run.moved += moved
        if not moved:
            self.pending_maybe = False
            self.pending_checked = time.monotonic() + PENDING_RECHECK_SECONDS
            return False
        for stream in self.streams.values():
            stream.rewound = False
        whole = self.streams.get(WHOLE_QUEUE)
        if whole is not None and lowest is not None and lowest <= whole.cursor:
            # A capture number taken before others but committed after them: read on from
            # it, so that it goes next (what this run handled already is skipped).
            whole.cursor = lowest - 1
            whole.buffer.clear()
        return True

    # -- one POST (in an HTTP thread above concurrency 1) -----------------------------------
    def send(self, stream: _Stream, batch: list[QueuedRecord]) -> _Outcome:
        """POST the batch; if it fails, each of its messages alone, in order, until one
        fails. No POST goes out unless the lane's lease is known to hold at that moment
        (checked again after the token is in hand, just before the request is sent). What
        went out before an unexpected error is still reported."""
        outcome = _Outcome(delivered=[])
        started = time.monotonic()
        self.sending.stream = stream
        try:
            self.send_into(outcome, batch)
        except _LeaseLapsed:
            outcome.lease_lapsed = True
        except Exception as exc:  # reported once the other lanes' answers are in
            outcome.error = exc
        finally:
            self.sending.stream = None
        if outcome.finished:
            outcome.took = outcome.finished - started
        return outcome

    def send_into(self, outcome: _Outcome, batch: list[QueuedRecord]) -> None:
        try:
            self.post(batch)
        except DeliveryFailed as failure:
            if len(batch) == 1 or not failure.is_attempt:
                outcome.failed, outcome.failure = batch, failure
                return
        else:
            outcome.delivered, outcome.finished = batch, time.monotonic()
            return
        for record in batch:
            try:
                self.post([record])
            except DeliveryFailed as failure:
                outcome.failed, outcome.failure = [record], failure
                return
            outcome.delivered.append(record)
            outcome.finished = time.monotonic()

    def lease_check(self) -> None:
        """Called right before each request goes out (after its headers are ready)."""
        stream = getattr(self.sending, "stream", None)
        if stream is not None and not self.lease_valid(stream):
            raise _LeaseLapsed

    def post(self, batch: list[QueuedRecord]) -> None:
        body = body_from_messages(
            [
                message_text(
                    record_id=r.id,
                    object_name=r.object_name,
                    action=r.action,
                    unique_id=r.unique_id,
                    json_text=r.json_text,
                )
                for r in batch
            ]
        )
        self.sender.post(body=body, webhook_id=webhook_id_for([r.id for r in batch]))

    def take_outcome(self, stream: _Stream, outcome: _Outcome) -> None:
        batch, stream.batch = stream.batch or [], None
        if outcome.took:
            self.expected_post_seconds = max(outcome.took, self.expected_post_seconds * 0.9)
        if outcome.delivered:
            if not self.delivered:
                self.delivered_since = outcome.finished
            self.delivered += [r.id for r in outcome.delivered]
            self.run.sent += len(outcome.delivered)
            DELIVERED.inc(len(outcome.delivered))
        if outcome.error is not None:
            self.error = self.error or outcome.error
            self.stopping = "failed"
        elif outcome.failure is not None:
            self.fail(outcome.failed, outcome.failure)
        elif outcome.lease_lapsed:
            # Not sent: left for whoever holds the lane now (or this run, should it take the
            # lane again).
            sent = {r.id for r in outcome.delivered}
            for record in [*batch, *stream.buffer]:
                if record.id not in sent:
                    self.handled.discard(record.id)
            stream.buffer.clear()
            stream.cursor, stream.rewound = 0, False
        if self.delivered and time.monotonic() - self.delivered_since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.delivered:
            progress_delete(self.delivered)
            self.delivered = []
        self.delivered_since = 0.0

    def fail(self, records: list[QueuedRecord], failure: DeliveryFailed) -> None:
        """Count the attempt (dead-lettering at DataSyncMaxAttempts) and stop the run."""
        self.flush()
        text = str(failure)[:ERROR_CHARS]
        if failure.is_attempt and records:
            attempts = max(r.attempts for r in records) + 1
            delay = backoff_seconds(attempts, failure.retry_after)
            self.run.dead_lettered += progress_failure_count(
                records=records,
                error=text,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                max_attempts=self.max_attempts,
            )
            self.run.failed += len(records)
        if self.failure is None:
            self.failure = DeliveryFailed(text, failure.status_code, failure.excerpt)
        self.stopping = "failed"

    # -- the heartbeat (its own thread, the shared connection) ------------------------------
    def heartbeat(self, stop: threading.Event) -> None:
        """Renew this run's leases every heartbeat_seconds() and note its progress. A run
        stuck past its slice stops renewing, so that its lanes are taken over."""
        self.shared.borrow()
        while not stop.wait(heartbeat_seconds()):
            if time.monotonic() > self.renew_until:
                logger.warning("Data Sync run %s is past its slice: its leases lapse.", self.run.pk)
                return
            with self.shared.lock:
                started = time.monotonic()
                try:
                    held = lanes_renew(holder=self.holder, lanes=set(self.renewed))
                    self.progress_save()
                except DatabaseError:
                    logger.exception("Data Sync run %s could not renew its leases", self.run.pk)
                    continue
                for lane in held:
                    self.renewed[lane] = started
                for lane in set(self.renewed) - held:
                    self.renewed[lane] = -1e9  # taken by another run: stop sending it

    def progress_save(self) -> None:
        self.next_save = time.monotonic() + SAVE_SECONDS
        run = self.run
        SyncRun.objects.filter(pk=run.pk).update(
            heartbeat_at=Now(),
            moved=run.moved,
            sent=run.sent,
            failed=run.failed,
            dead_lettered=run.dead_lettered,
        )


def _concurrency() -> int:
    return int(setting_get("DataSyncConcurrency"))


def _worker_name() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"[:200]


def _whole_queue_take(holder: str, deadline: float) -> float:
    """Every lane, or RunConflict when a live run holds any. Lanes of a run that stopped
    beating (killed) are waited for until their leases expire, within the slice; a holder
    that still beats is watched for WATCH_HEARTBEATS first, in case it was just killed."""
    watch_until = time.monotonic() + WATCH_HEARTBEATS * heartbeat_seconds()
    while True:
        taken_at = time.monotonic()
        if lanes_take_all(holder=holder, run_id=None):
            return taken_at
        live, _stale, _expired = lanes_held_elsewhere(holder=holder)
        now = time.monotonic()
        if (live and now >= watch_until) or now >= deadline:
            raise RunConflict("Another Data Sync run is active.")
        time.sleep(LOOK_AGAIN_SECONDS)


def datasync_run(
    *,
    trigger: str,
    honour_backoff: bool,
    slice_seconds: float = SLICE_SECONDS,
    more_lanes: Callable[[], None] | None = None,
) -> SyncRun:
    """Run the job once (one slice). At DataSyncConcurrency 1 raises RunConflict when
    another run is active; above 1 it delivers the lanes no other run holds. `more_lanes` is
    called (once) when more lanes have work than this run delivers at once."""
    holder = uuid.uuid4().hex
    concurrency = _concurrency()
    deadline = time.monotonic() + slice_seconds
    lanes_ensure()
    taken_at = _whole_queue_take(holder, deadline) if concurrency == 1 else 0.0
    try:
        started = timezone.now()
        run = SyncRun.objects.create(
            trigger=trigger,
            started_at=started,
            worker=_worker_name(),
            concurrency=concurrency,
            heartbeat_at=started,
        )
        LaneLease.objects.filter(holder=holder).update(run=run)
        _abandoned_mark(run)
        shared = SharedConnection()
        drain = _Run(
            run,
            holder=holder,
            honour_backoff=honour_backoff,
            slice_seconds=max(0.0, deadline - time.monotonic()),
            concurrency=concurrency,
            shared=shared,
            more_lanes=more_lanes,
        )
        if concurrency == 1:
            drain.renewed = dict.fromkeys(range(LANES), taken_at)
            drain.streams[WHOLE_QUEUE] = _Stream(lane=WHOLE_QUEUE)
        run.status = SyncRun.Status.SUCCEEDED
        stop = threading.Event()
        with shared.shared():
            beating = threading.Thread(
                target=contextvars.copy_context().run,
                args=(drain.heartbeat, stop),
                name=f"datasync-heartbeat-{run.pk}",
            )
            beating.start()
            try:
                drain.drain()
                if drain.stopping == "slice":
                    run.has_more = True
                elif drain.lanes_lost:
                    run.has_more = True  # their records wait for whoever holds them now
                    run.last_error = (
                        f"Lost {drain.lanes_lost} lane(s): this run's heartbeat was late "
                        "and another run took them over."
                    )
                elif drain.stopping == "lost":
                    run.status = SyncRun.Status.FAILED
            except DeliveryFailed as exc:
                run.status = SyncRun.Status.FAILED
                run.last_error = str(exc)
                run.last_status_code = exc.status_code
                run.last_response_excerpt = exc.excerpt
            except Exception as exc:
                run.status = SyncRun.Status.FAILED
                run.last_error = f"Unexpected error: {type(exc).__name__}: {exc}"[:ERROR_CHARS]
                raise
            finally:
                stop.set()
                with shared.lock:
                    drain.flush()
                beating.join()
                run.finished_at = run.heartbeat_at = timezone.now()
                run.save()
                RUNS.inc(status=run.status.lower())
                RUN_SECONDS.observe((run.finished_at - run.started_at).total_seconds())
                _abandoned_mark(run)  # a run whose lanes this one took over, say
                logger.info(
                    "Data Sync run %s %s: moved %s, sent %s, failed %s%s",
                    run.pk,
                    run.status,
                    run.moved,
                    run.sent,
                    run.failed,
                    f" ({run.last_error})" if run.last_error else "",
                )
    finally:
        lanes_release(holder=holder)
    return run


def _abandoned_mark(run: SyncRun) -> None:
    """RUNNING runs that stopped beating were killed before they could finish."""
    missed = Now() - timedelta(seconds=lease_seconds())
    stopped = Q(heartbeat_at__lt=missed) | Q(heartbeat_at__isnull=True, started_at__lt=missed)
    SyncRun.objects.filter(stopped, status=SyncRun.Status.RUNNING).exclude(pk=run.pk).update(
        status=SyncRun.Status.FAILED,
        finished_at=run.started_at,
        last_error="Abandoned: the run stopped without finishing (its lease expired).",
    )
