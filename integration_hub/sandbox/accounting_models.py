"""What the sandbox's accounting systems (QuickBooks Online, Xero, Sage) remember: the apps
registered with them, the companies, the grants and tokens their OAuth issued, the objects
posted into their books and every API call they received."""

from django.db import models

from integration_hub.models import TimeStampedModel

from . import accounting_data as data


class AccountingSystem(models.TextChoices):
    QUICKBOOKS_ONLINE = data.QUICKBOOKS, data.SYSTEM_NAMES[data.QUICKBOOKS]
    XERO = data.XERO, data.SYSTEM_NAMES[data.XERO]
    SAGE = data.SAGE, data.SYSTEM_NAMES[data.SAGE]


class AccountingApp(TimeStampedModel):
    """An app registered with a sandbox accounting system (as a developer registers one at
    Intuit, Xero or Sage): its client id and a hash of its secret, never the secret."""

    system = models.CharField(max_length=20, choices=AccountingSystem.choices)
    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=100, unique=True)
    client_secret_hash = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "name"], name="sandbox_acc_app_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()}: {self.name}"


class AccountingCompany(TimeStampedModel):
    """A company of a sandbox accounting system (QuickBooks realm, Xero organisation, Sage
    business), created from accounting_data on first use. An admin can make it throttle
    sooner (`rate_limit_per_minute`) or, for QuickBooks, answer its Faults inside HTTP 200."""

    system = models.CharField(max_length=20, choices=AccountingSystem.choices)
    tenant_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    rate_limit_per_minute = models.PositiveIntegerField(
        help_text="API calls accepted per rolling minute before a 429."
    )
    fault_status = models.PositiveSmallIntegerField(
        default=400,
        choices=[(400, "400 (as usual)"), (200, "200 (a Fault inside a success)")],
        help_text="QuickBooks only: the HTTP status its validation Faults come with.",
    )

    class Meta:
        ordering = ["system", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "tenant_id"], name="sandbox_acc_company_unique"
            )
        ]
        verbose_name_plural = "accounting companies"

    def __str__(self) -> str:
        return f"{self.get_system_display()}: {self.name}"


class AccountingGrant(TimeStampedModel):
    """One consent given on a sandbox system's authorize page: the app, the companies the
    user let it reach and its scope; with the authorization code it produced (kept as a
    SHA-256, single use, 60 s) and that code's PKCE challenge. Revoking ends every token."""

    app = models.ForeignKey(AccountingApp, on_delete=models.CASCADE, related_name="grants")
    tenant_ids = models.JSONField(default=list)
    scope = models.CharField(max_length=500)
    redirect_uri = models.CharField(max_length=2000)
    code_hash = models.CharField(max_length=64, unique=True)
    code_challenge = models.CharField(max_length=128)
    code_expires_at = models.DateTimeField()
    code_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"grant #{self.pk} of {self.app}"


class AccountingToken(TimeStampedModel):
    """An access or refresh token a sandbox system issued for a grant, kept as a SHA-256.
    A refresh token is used once: refreshing sets `rotated_at` and it is refused after."""

    class Kind(models.TextChoices):
        ACCESS = "access"
        REFRESH = "refresh"

    grant = models.ForeignKey(AccountingGrant, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} token #{self.pk}"


class AccountingObject(TimeStampedModel):
    """An object in the books of a sandbox company (a QuickBooks JournalEntry, a Xero
    BankTransaction, a Sage other payment): its current body (as posted, with every update
    applied; the system's answer adds its ids and totals), its version (QuickBooks'
    SyncToken; counts updates for the others) and whether it was deleted."""

    class ObjectType(models.TextChoices):
        JOURNAL_ENTRY = "JournalEntry"
        BANK_TRANSACTION = "BankTransaction"
        OTHER_PAYMENT = "other_payment"

    company = models.ForeignKey(
        AccountingCompany, on_delete=models.CASCADE, related_name="book_objects"
    )
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    external_id = models.CharField(max_length=64, blank=True)
    body = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=0)
    is_deleted = models.BooleanField(default=False)
    # Sage: the idempotency_id it was created with (a repeat returns this object).
    idempotency_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"],
                condition=~models.Q(external_id=""),
                name="sandbox_acc_object_unique_id",
            ),
            models.UniqueConstraint(
                fields=["company", "idempotency_id"],
                condition=~models.Q(idempotency_id=""),
                name="sandbox_acc_object_unique_idem",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.external_id}"


class AccountingCall(TimeStampedModel):
    """One API call a sandbox accounting system received, as it came (credential headers
    left out, body cut at BODY_LIMIT) and what it answered. Repeats with the same
    idempotency key (QuickBooks `requestid`, Xero `Idempotency-Key`) get `response_body`
    again; calls in the last minute count toward the company's rate limit."""

    BODY_LIMIT = 262_144

    system = models.CharField(max_length=20, choices=AccountingSystem.choices)
    company = models.ForeignKey(
        AccountingCompany, on_delete=models.CASCADE, null=True, blank=True, related_name="calls"
    )
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    headers = models.JSONField(default=dict)
    body = models.TextField(blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    is_replay = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField()
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    accounting_object = models.ForeignKey(
        AccountingObject, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "created_at"], name="sandbox_acc_call_recent_idx"),
            models.Index(
                fields=["company", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="sandbox_acc_call_idem_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.response_status}"
