import sys

from django.core.management.base import BaseCommand

from datasync.models import SyncRun
from datasync.selectors import LaneRow, lane_overview, queue_depths, runs_recent
from datasync.services.run import RunConflict, datasync_run
from datasync.services.sample import sample_message_send


class Command(BaseCommand):
    help = (
        "Data Sync: `datasync status` (queue depths, lanes and the last runs), `datasync run` (an "
        "explicit run until the queues are empty or a delivery fails; exit 0 on success, 1 on "
        "failure), `datasync sample` (Send Sample Message; exit 0 on a 2xx)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="queue depths, lanes and the last runs")
        sub.add_parser("run", help="run the job now (tries every record at once)")
        sub.add_parser("sample", help="send the sample message and show the response")

    def handle(self, *args, action, **options):
        if action == "status":
            self._status()
        elif action == "run":
            sys.exit(self._run())
        else:
            sys.exit(self._sample())

    def _status(self) -> None:
        depths = queue_depths()
        self.stdout.write(
            "Queues: customer pending {customer_pending}, transaction pending "
            "{transaction_pending}, progress {progress}, dead letters {dead_letters}".format(
                **depths
            )
        )
        self._lanes()
        runs = runs_recent(limit=10)
        if not runs:
            self.stdout.write("No runs yet.")
        for summary in runs:
            run = summary.run
            error = f" — {run.last_error}" if run.last_error else ""
            stopped = ""
            if run.status == SyncRun.Status.RUNNING and not summary.is_alive:
                age = summary.heartbeat_age
                stopped = " (no heartbeat)" if age is None else f" (no heartbeat for {age:.0f} s)"
            self.stdout.write(
                f"{run.started_at:%Y-%m-%d %H:%M:%S} {run.status:<9} {run.trigger:<12} "
                f"{run.worker or '-'}, concurrency {run.concurrency}: {summary.rate_text}, "
                f"failed {run.failed}{stopped}{error}"
            )

    def _lanes(self) -> None:
        lanes = lane_overview()
        self.stdout.write(
            f"Lanes: {lanes.lanes_busy} of {lanes.lanes_total} busy "
            f"(DataSyncConcurrency {lanes.concurrency})"
        )
        if lanes.whole_queue:
            self.stdout.write(f"  every lane {_held_by(lanes.whole_queue)}")
        for lane in lanes.lanes:
            self.stdout.write(
                f"  lane {lane.lane:02d}  queued {lane.queued}  dead {lane.dead_letters}  "
                f"{_held_by(lane) if lane.is_held else 'free'}"
            )
        if lanes.lanes_idle:
            other = " other" if lanes.lanes else ""
            idle = "with nothing queued" if lanes.whole_queue else "idle"
            self.stdout.write(f"  {lanes.lanes_idle}{other} lanes {idle}")
        for active in lanes.active_runs:
            run = active.run
            self.stdout.write(
                f"  active: run {run.pk} ({run.worker or 'worker unknown'}), "
                f"concurrency {run.concurrency}, {active.rate_text}, "
                f"heartbeat {active.heartbeat_age:.0f} s ago"
            )

    def _run(self) -> int:
        while True:
            try:
                run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
            except RunConflict as exc:
                self.stderr.write(str(exc))
                return 1
            self.stdout.write(
                f"Run {run.pk} {run.status}: moved {run.moved}, sent {run.sent}, "
                f"failed {run.failed}, dead-lettered {run.dead_lettered}"
            )
            if run.status == SyncRun.Status.FAILED:
                self.stderr.write(f"Failed: {run.last_error}")
                return 1
            if not run.has_more:
                return 0

    def _sample(self) -> int:
        result = sample_message_send()
        if result.status_code is None:
            self.stderr.write(f"No response: {result.error}")
            return 1
        self.stdout.write(f"Status code: {result.status_code}")
        self.stdout.write(f"Response body: {result.body}")
        return 0 if result.is_success else 1


def _held_by(lane: LaneRow) -> str:
    run = lane.run
    holder = f"run {run.pk} ({run.worker or 'worker unknown'})" if run else "a starting run"
    return f"held by {holder}, heartbeat {lane.heartbeat_age:.0f} s ago"
