"""Data Sync tables (reference 003): the pending queues, the progress queue, run history
and the lane leases that keep one deliverer per lane (DESIGN.md, "Data Sync": lanes)."""

from django.db import models

from integration_hub.models.base import TimeStampedModel


class ObjectName(models.TextChoices):
    CUSTOMER = "Customer"
    TRANSACTION = "Transaction"


class Action(models.TextChoices):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class QueueRecord(TimeStampedModel):
    """A captured change. `unique_id` is the business id of the changed object (reference 003:
    the customer ID, or the retail transaction id); `subscriber_id` + `customer_key` name the
    customer the record belongs to, so that a customer's records keep their order and are
    purged with it. `capture_order` is the capture number, taken from the one database
    sequence shared by both pending queues (services/queues.capture_number_next) under the
    customer's row lock: it orders delivery and is the message's `uniqueId`. `lane` (0..63,
    services/queues.lane_for) follows from the customer, so a customer's records share one."""

    object_name = models.CharField(max_length=20, choices=ObjectName.choices)
    unique_id = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=Action.choices)
    json_object = models.JSONField(null=True, blank=True)
    capture_order = models.BigIntegerField()
    subscriber_id = models.BigIntegerField()
    customer_key = models.CharField(max_length=64, blank=True)
    lane = models.PositiveSmallIntegerField(default=0)
    # Not indexed (unlike other models'): nothing looks records up by it, and every captured
    # save and every move would pay for the index.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.object_name} {self.unique_id} {self.action}"


class CustomerPendingRecord(QueueRecord):
    """A captured customer change not yet moved to the progress queue
    (reference 003: DATA_SYNC_CUST_PENDING_QUEUE)."""

    class Meta:
        db_table = "datasync_cust_pending_queue"
        ordering = ["capture_order"]
        indexes = [
            models.Index(fields=["capture_order"], name="ds_cust_pending_order"),
            models.Index(fields=["subscriber_id", "customer_key"], name="ds_cust_pending_customer"),
        ]


class TransactionPendingRecord(QueueRecord):
    """A captured posted transaction not yet moved to the progress queue
    (reference 003: DATA_SYNC_TRN_PENDING_QUEUE)."""

    class Meta:
        db_table = "datasync_trn_pending_queue"
        ordering = ["capture_order"]
        indexes = [
            models.Index(fields=["capture_order"], name="ds_trn_pending_order"),
            models.Index(fields=["subscriber_id", "customer_key"], name="ds_trn_pending_customer"),
        ]


class ProgressRecord(QueueRecord):
    """A record being delivered. Its id is its capture number (`capture_order`, written
    explicitly by the move), the message's `uniqueId`: the same on every retry, so receivers
    deduplicate on it, and id order is the delivery order. A delivered record is deleted."""

    id = models.BigAutoField(primary_key=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    is_dead_letter = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "datasync_progress_queue"
        ordering = ["id"]
        verbose_name = "progress record"
        indexes = [
            models.Index(fields=["subscriber_id", "customer_key"], name="ds_progress_customer"),
            models.Index(
                fields=["id"],
                condition=models.Q(is_dead_letter=True),
                name="ds_progress_dead_letters",
            ),
            # A lane's deliverable records in order (what a lane's deliverer reads).
            models.Index(
                fields=["lane", "id"],
                condition=models.Q(is_dead_letter=False),
                name="ds_progress_lane",
            ),
        ]


class CaptureCounter(models.Model):
    """The capture sequence where the database has no sequences (SQLite, which serialises
    writers anyway): one row whose `value` is the last capture number given. On PostgreSQL
    the sequence `datasync_capture_seq` is used instead (no row lock held to commit, so
    capturing transactions never wait on each other for it)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"capture number {self.value}"


class SyncRun(TimeStampedModel):
    """One run (or one slice of a long drain) of the Data Sync job, as its history shows."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    class Trigger(models.TextChoices):
        SCHEDULE = "SCHEDULE"
        RUN_NOW = "RUN_NOW"
        COMMAND = "COMMAND"
        CONTINUATION = "CONTINUATION"

    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    moved = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    dead_lettered = models.PositiveIntegerField(default=0)
    has_more = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response_excerpt = models.TextField(blank=True)
    # Where it runs ("host pid 123"), how many lanes it delivers at once, and its last
    # heartbeat: a RUNNING run whose heartbeat stopped was killed (services/run.py).
    worker = models.CharField(max_length=200, blank=True)
    concurrency = models.PositiveSmallIntegerField(default=1)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [("run_datasync", "Can run Data Sync now and replay dead letters")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="RUNNING") | models.Q(finished_at__isnull=False),
                name="datasync_run_finished_has_end",
            )
        ]

    def __str__(self) -> str:
        return f"Data Sync run {self.pk} ({self.status})"


class LaneLease(models.Model):
    """One row per lane (0..63, created by migration): which run delivers it now, and until
    when. A holder renews `expires_at` with its heartbeat (services/lease.py); a run killed
    without releasing its lanes blocks them only until the lease expires. Times are the
    database's clock, so clusters with skewed clocks agree on when a lease has expired."""

    lane = models.PositiveSmallIntegerField(primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lane"]

    def __str__(self) -> str:
        return f"lane {self.lane}: {self.holder or 'free'}"
