"""Reads of Data Sync: queue depths, run history with throughput, and the lanes (who
delivers which, what waits in each)."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Now

from integration_hub.system_settings import setting_get

from .models import (
    CustomerPendingRecord,
    LaneLease,
    ProgressRecord,
    SyncRun,
    TransactionPendingRecord,
)
from .services.lease import LANES, lease_seconds


def user_may_run(user) -> bool:
    """Run now and Replay: Job Admin (the role holds this permission), or a superuser."""
    return user.has_perm("datasync.run_datasync")


def queue_depths() -> dict[str, int]:
    """The records in each queue (what `/metrics` runs at every scrape): the dead letters
    counted through their partial index, and the progress queue's others as its whole count
    less them, which is cheaper than filtering the whole queue twice."""
    in_progress = ProgressRecord.objects.count()
    dead_letters = ProgressRecord.objects.filter(is_dead_letter=True).count()
    return {
        "customer_pending": CustomerPendingRecord.objects.count(),
        "transaction_pending": TransactionPendingRecord.objects.count(),
        "progress": max(0, in_progress - dead_letters),
        "dead_letters": dead_letters,
    }


def run_list() -> QuerySet[SyncRun]:
    return SyncRun.objects.order_by("-started_at", "-id")


def dead_letters(*, limit: int = 50) -> list[ProgressRecord]:
    """The oldest dead-lettered records (what the Data Sync page lists for replay)."""
    return list(
        ProgressRecord.objects.filter(is_dead_letter=True)
        .only(
            "id",
            "object_name",
            "unique_id",
            "action",
            "subscriber_id",
            "customer_key",
            "attempts",
            "last_error",
        )
        .order_by("id")[:limit]
    )


# -- lanes and throughput (DESIGN.md, "Data Sync": lanes) ------------------------------------


def _age() -> ExpressionWrapper:
    """Seconds since the last heartbeat, on the database's clock (as leases are)."""
    return ExpressionWrapper(Now() - F("heartbeat_at"), output_field=DurationField())


def _heartbeat_recent() -> Now:
    """A run that beat since then is alive: its leases have not expired (services/lease.py)."""
    return Now() - timedelta(seconds=lease_seconds())


def _seconds(duration: timedelta | None) -> float | None:
    return None if duration is None else max(0.0, duration.total_seconds())


@dataclass(frozen=True)
class RunSummary:
    """A run with its throughput: records sent per second from its start to its end, or to
    its last heartbeat while it runs (its counts are as of that heartbeat). `is_alive`: it
    runs and its heartbeat is recent; a RUNNING run that stopped beating was killed."""

    run: SyncRun
    elapsed_seconds: float | None
    is_alive: bool
    heartbeat_age: float | None

    @property
    def per_second(self) -> float | None:
        if not self.elapsed_seconds:
            return None
        return self.run.sent / self.elapsed_seconds

    @property
    def per_second_text(self) -> str:
        """Records per second as shown ("300"; "2.5" below 10), "" when it has no duration."""
        rate = self.per_second
        if rate is None:
            return ""
        return f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}"

    @property
    def rate_text(self) -> str:
        """What `datasync status` shows: "sent 900 in 3.0 s (300/s)"."""
        if not self.per_second_text:
            return f"sent {self.run.sent}"
        return f"sent {self.run.sent} in {self.elapsed_seconds:.1f} s ({self.per_second_text}/s)"


def _run_summaries(runs: QuerySet[SyncRun]) -> list[RunSummary]:
    runs = runs.annotate(
        alive=Q(status=SyncRun.Status.RUNNING, heartbeat_at__gte=_heartbeat_recent()),
        heartbeat_age=_age(),
    )
    summaries = []
    for run in runs:
        end = run.finished_at or run.heartbeat_at
        elapsed = None if end is None else _seconds(end - run.started_at)
        running = run.status == SyncRun.Status.RUNNING
        summaries.append(
            RunSummary(
                run=run,
                elapsed_seconds=elapsed,
                is_alive=bool(run.alive),
                heartbeat_age=_seconds(run.heartbeat_age) if running else None,
            )
        )
    return summaries


def runs_recent(*, limit: int = 20) -> list[RunSummary]:
    """The latest runs, newest first, each with its throughput."""
    return _run_summaries(run_list()[:limit])


@dataclass(frozen=True)
class LaneRow:
    """One lane on the Data Sync page: what waits in it and who delivers it. A lane is held
    while its lease is live (a holder, not expired); `run` is None only in the moment between
    a run taking its lanes and recording itself on them."""

    lane: int
    queued: int
    dead_letters: int
    is_held: bool
    run: SyncRun | None
    heartbeat_age: float | None


@dataclass(frozen=True)
class LaneOverview:
    lanes_total: int
    lanes_busy: int
    concurrency: int
    lanes: list[LaneRow]  # only lanes with work or held
    lanes_idle: int  # the others: nothing queued and, unless whole_queue, free
    # The run holding all 64 lanes at once (DataSyncConcurrency 1: one deliverer for the
    # whole queue); then `lanes` lists only the lanes with work.
    whole_queue: LaneRow | None
    active_runs: list[RunSummary]


def _counts_by_lane(records: QuerySet, **counts) -> dict[int, dict]:
    rows = records.order_by().values("lane").annotate(**counts)
    return {row.pop("lane"): row for row in rows}


def lane_overview() -> LaneOverview:
    """Lanes busy, queued and dead-lettered records per lane, who holds which lane, and the
    active runs with their throughput, in a fixed number of queries whatever the lanes."""
    progress = _counts_by_lane(
        ProgressRecord.objects.all(),
        queued=Count("id", filter=Q(is_dead_letter=False)),
        dead=Count("id", filter=Q(is_dead_letter=True)),
    )
    pending = [
        _counts_by_lane(model.objects.all(), queued=Count("id"))
        for model in (CustomerPendingRecord, TransactionPendingRecord)
    ]
    leases = {
        lease.lane: lease
        for lease in LaneLease.objects.select_related("run").annotate(
            live=Q(expires_at__gte=Now()) & ~Q(holder=""), heartbeat_age=_age()
        )
    }
    rows = []
    for lane in range(LANES):
        found = progress.get(lane, {})
        queued = found.get("queued", 0) + sum(
            counts.get(lane, {}).get("queued", 0) for counts in pending
        )
        lease = leases.get(lane)
        is_held = bool(lease is not None and lease.live)
        rows.append(
            LaneRow(
                lane=lane,
                queued=queued,
                dead_letters=found.get("dead", 0),
                is_held=is_held,
                run=lease.run if is_held else None,
                heartbeat_age=_seconds(lease.heartbeat_age) if is_held else None,
            )
        )
    held = [row for row in rows if row.is_held]
    holders = {leases[row.lane].holder for row in held}
    whole_queue = held[0] if len(held) == LANES and len(holders) == 1 else None
    shown = [
        row
        for row in rows
        if row.queued or row.dead_letters or (row.is_held and whole_queue is None)
    ]
    return LaneOverview(
        lanes_total=LANES,
        lanes_busy=len(held),
        concurrency=int(setting_get("DataSyncConcurrency")),
        lanes=shown,
        lanes_idle=LANES - len(shown),
        whole_queue=whole_queue,
        active_runs=_run_summaries(
            SyncRun.objects.filter(
                status=SyncRun.Status.RUNNING, heartbeat_at__gte=_heartbeat_recent()
            ).order_by("started_at", "id")
        ),
    )
