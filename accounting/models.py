"""Accounting export (reference 004): integrations per subscriber, their maps, the SyncRecords
of each run and the packets a run sends."""

from django.conf import settings
from django.db import models

from integration_hub.models import Integration, OAuthGrant, Order, Subscriber, TimeStampedModel


class AccountingIntegration(TimeStampedModel):
    """One subscriber's export to one kind of accounting system, delivered to an ACCOUNTING
    Integration (endpoint + credentials)."""

    class IntegrationType(models.TextChoices):
        QUICKBOOKS_ONLINE = "QUICKBOOKS_ONLINE", "QuickBooks Online"
        XERO = "XERO", "Xero"
        SAGE = "SAGE", "Sage"
        GENERIC = "GENERIC", "Generic"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="accounting_integrations"
    )
    integration_type = models.CharField(max_length=30, choices=IntegrationType.choices)
    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="accounting_integrations"
    )
    # reference 004, SynchronizationPreferences.SummarizeData
    summarize_data = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    # The company in the accounting system (QuickBooks realmId, Xero tenant id, Sage business
    # id): filled by Connect, or by System Admin. Decides whose books the sales go to.
    tenant_id = models.CharField(max_length=200, blank=True)
    tenant_name = models.CharField(max_length=300, blank=True)
    # What the Owner granted at Connect (QuickBooks, Xero, Sage); gone at Disconnect.
    grant = models.OneToOneField(
        OAuthGrant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accounting_integration",
    )

    class Meta:
        ordering = ["subscriber_id", "integration_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "integration_type"],
                name="accounting_integration_subscriber_type_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} / {self.integration_type}"

    @property
    def is_connected(self) -> bool:
        return self.grant_id is not None


class AccountingMap(TimeStampedModel):
    """One mapping rule: a value of the sales data (`source`) becomes an account or code of
    the accounting system (`target`)."""

    class Kind(models.TextChoices):
        REVENUE_CATEGORY = "REVENUE_CATEGORY", "Revenue category"
        PAYMENT_METHOD = "PAYMENT_METHOD", "Payment method"
        TAX_RATE = "TAX_RATE", "Tax rate"

    accounting_integration = models.ForeignKey(
        AccountingIntegration, on_delete=models.CASCADE, related_name="maps"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=100)
    target = models.CharField(max_length=100)

    class Meta:
        ordering = ["accounting_integration_id", "kind", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["accounting_integration", "kind", "source"],
                name="accounting_map_source_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(source="") & ~models.Q(target=""),
                name="accounting_map_not_blank",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["REVENUE_CATEGORY", "PAYMENT_METHOD", "TAX_RATE"]),
                name="accounting_map_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} → {self.target}"


class SyncRecord(TimeStampedModel):
    """One Sync of an accounting integration (reference 004, SyncRecord): the window of
    order modifications it covers and how it ended. `updated_at` is its heartbeat."""

    class Status(models.TextChoices):
        QUEUED = "Queued", "Queued"
        IN_PROGRESS = "InProgress", "In progress"
        SUCCESS = "Success", "Success"
        FAILED = "Failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.IN_PROGRESS)

    accounting_integration = models.ForeignKey(
        AccountingIntegration, on_delete=models.CASCADE, related_name="sync_records"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Orders with window_start < updated_at <= window_end; no start: from the beginning.
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    order_count = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # reference 004 / DESIGN.md: one Sync at a time per integration, held by the database.
            models.UniqueConstraint(
                fields=["accounting_integration"],
                condition=models.Q(status__in=["Queued", "InProgress"]),
                name="sync_record_one_active_per_integration",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["Queued", "InProgress", "Success", "Failed"]),
                name="sync_record_status_known",
            ),
        ]
        indexes = [
            models.Index(
                fields=["accounting_integration", "-requested_at"], name="sync_record_history"
            ),
            models.Index(fields=["status", "updated_at"], name="sync_record_status"),
        ]

    def __str__(self) -> str:
        return f"SyncRecord {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class Packet(TimeStampedModel):
    """One unit of sales data sent to the integrator: an order, or (summarised) one business
    date and payment method. `content` is the transformed packet before maps; `payload` the
    object last sent (maps applied)."""

    class State(models.TextChoices):
        PENDING = "Pending", "Pending"
        SENT = "Sent", "Sent"
        FAILED = "Failed", "Failed"

    sync_record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="packets")
    key = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    content = models.JSONField()
    payload = models.JSONField(null=True, blank=True)
    # UUID v5 of the accounting integration, the key and the exact body (services.delivery).
    idempotency_key = models.CharField(max_length=64, db_index=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Held by the delivery sending it until then (services.delivery): no other sends it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The id(s) the accounting system gave the object(s) this packet created, updated or
    # deleted (comma-separated: Xero and Sage book one object per payment).
    external_id = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["sync_record_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sync_record", "key"], name="packet_key_unique"),
            models.CheckConstraint(
                condition=models.Q(state__in=["Pending", "Sent", "Failed"]),
                name="packet_state_known",
            ),
        ]
        # (record, state, id): History reads the first packets of each state in id order
        # without reading the others (DESIGN.md, "Accounting").
        indexes = [models.Index(fields=["sync_record", "state", "id"], name="packet_state")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class PacketOrder(models.Model):
    """An order whose totals a packet carries. The orders under a key's latest packet are
    the ones the accounting system holds under that key: when one is modified or moves to
    another key, the key it left is recomputed too (DESIGN.md, "Accounting")."""

    packet = models.ForeignKey(Packet, on_delete=models.CASCADE, related_name="orders")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["packet", "order"], name="packet_order_unique")
        ]
        indexes = [models.Index(fields=["order", "packet"], name="packet_order_by_order")]

    def __str__(self) -> str:
        return f"{self.packet_id} ← order {self.order_id}"


class ExportedKey(TimeStampedModel):
    """One packet key of an accounting integration: the packet that carries its current
    totals, and the object(s) the accounting system holds for it, so that a key exported
    before is updated in place, or deleted when no order is left under it, never booked
    twice. Claimed while a delivery sends its packet: one packet of a key in flight at a
    time, whichever record it belongs to."""

    accounting_integration = models.ForeignKey(
        AccountingIntegration, on_delete=models.CASCADE, related_name="exported_keys"
    )
    key = models.CharField(max_length=200)
    latest_packet = models.ForeignKey(
        Packet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The company the objects are in: connecting another one starts the key afresh there.
    tenant_id = models.CharField(max_length=200, blank=True)
    # What the system holds: part ("" or a payment method) → {"id": ..., "version":
    # QuickBooks' SyncToken}.
    held = models.JSONField(default=dict, blank=True)
    # Creates sent and not answered yet (delivery repeats them as they were, with their
    # idempotency keys, before anything else for the key).
    pending = models.JSONField(default=list, blank=True)
    # How many times the key's objects were deleted: a key booked again after that creates
    # new objects under new idempotency keys (a repeat would get the deleted one back).
    revision = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The next Sync recomputes this key and every key its orders are under now, whatever
    # its window: the key was exported before the books were kept (an increment, not its
    # totals).
    recompute = models.BooleanField(default=False)
    # The summarizeData its latest packet was built with: a key of the other shape is
    # recomputed (emptied) by the next Sync, and its orders booked under keys of this one.
    summarized = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["accounting_integration_id", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["accounting_integration", "key"], name="exported_key_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["accounting_integration", "claimed_until"], name="exported_key_claims"
            )
        ]

    def __str__(self) -> str:
        return f"{self.accounting_integration_id}/{self.key}"


class DeliveryPace(models.Model):
    """The send rate of one accounting integration, shared by every delivery (Sync and
    Resend, every worker and cluster): the next free slot (calls kept `interval` apart, the
    system's per-minute limit) and a pause after a 429 until its Retry-After."""

    accounting_integration = models.OneToOneField(
        AccountingIntegration, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    next_slot_at = models.DateTimeField()
    paused_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.accounting_integration_id} paced to {self.next_slot_at.isoformat()}"
