"""Inbound sync (DESIGN.md, "Connections and inbound sync"; references 000, 001, 002)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from integration_hub.models import Integration, TimeStampedModel


class IdentityProvider(TimeStampedModel):
    """An OpenID Connect provider a System Admin trusts to verify emails (DESIGN.md,
    "Connections and inbound sync"): the hub is registered with it as a client whose id and
    secret live in the credential store. An email it verifies counts for the integrations it
    is trusted for, or for all of them."""

    name = models.CharField(max_length=100, unique=True)
    discovery_url = models.URLField(
        max_length=2000,
        help_text="The provider's /.well-known/openid-configuration address.",
    )
    credential = models.OneToOneField(
        "integration_hub.Credential", on_delete=models.PROTECT, related_name="+"
    )
    is_trusted_for_all = models.BooleanField(
        default=False, help_text="Its emails count for every Organisation Kit integration."
    )
    integrations = models.ManyToManyField(
        Integration,
        blank=True,
        related_name="+",
        help_text="The integrations its emails count for (ignored when trusted for all).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VerifiedIdentityQuerySet(models.QuerySet):
    def valid_for(self, integration):
        """The identities some verification of which counts for `integration`: BankID at it,
        a System Admin for it or for all, or an identity provider trusted for it or all."""
        return self.filter(
            pk__in=IdentityVerification.objects.valid_for(integration).values("identity")
        )


class VerifiedIdentity(TimeStampedModel):
    """A personal number or email that this hub user has proven is theirs (reference 001:
    the account must be correctly attributed to the user). Its verifications say who
    verified it, and so which integrations it counts for."""

    class Kind(models.TextChoices):
        PERSONAL_NUMBER = "PERSONAL_NUMBER", "Personal number"
        EMAIL = "EMAIL", "Email"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verified_identities"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=254)
    # The latest verification's time.
    verified_at = models.DateTimeField()

    objects = VerifiedIdentityQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "value"], name="syncing_identity_unique_per_user"
            )
        ]
        verbose_name_plural = "verified identities"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user}"


class IdentityVerificationQuerySet(models.QuerySet):
    def valid_for(self, integration):
        return self.filter(
            Q(method=IdentityVerification.Method.BANKID, integration=integration)
            | Q(method=IdentityVerification.Method.ADMIN, integration=integration)
            | Q(method=IdentityVerification.Method.ADMIN, integration__isnull=True)
            | Q(method=IdentityVerification.Method.OPENID, provider__is_trusted_for_all=True)
            | Q(method=IdentityVerification.Method.OPENID, provider__integrations=integration)
        )


class IdentityVerification(TimeStampedModel):
    """Who verified an identity, and so for which integrations it counts (DESIGN.md): the
    BankID of one integration (for that integration), an identity provider (for the
    integrations it is trusted for), or a System Admin (for one integration, or for all when
    `integration` is empty)."""

    class Method(models.TextChoices):
        BANKID = "BANKID", "BankID"
        OPENID = "OPENID", "OpenID Connect"
        ADMIN = "ADMIN", "A System Admin"

    identity = models.ForeignKey(
        VerifiedIdentity, on_delete=models.CASCADE, related_name="verifications"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    provider = models.ForeignKey(
        IdentityProvider,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="verifications",
    )
    verified_at = models.DateTimeField()

    objects = IdentityVerificationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(method="BANKID", integration__isnull=False, provider__isnull=True)
                    | Q(method="OPENID", integration__isnull=True, provider__isnull=False)
                    | Q(method="ADMIN", provider__isnull=True)
                ),
                name="syncing_verification_verifier_matches_method",
            ),
            models.UniqueConstraint(
                fields=["identity", "method", "integration"],
                condition=Q(integration__isnull=False),
                name="syncing_verification_unique_per_integration",
            ),
            models.UniqueConstraint(
                fields=["identity", "provider"],
                condition=Q(provider__isnull=False),
                name="syncing_verification_unique_per_provider",
            ),
            models.UniqueConstraint(
                fields=["identity"],
                condition=Q(method="ADMIN", integration__isnull=True),
                name="syncing_verification_unique_for_all",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identity} by {self.get_method_display()}"

    @property
    def is_for_all(self) -> bool:
        if self.method == self.Method.ADMIN:
            return self.integration_id is None
        return self.method == self.Method.OPENID and self.provider.is_trusted_for_all


class BankIdOrder(TimeStampedModel):
    """A BankID order a hub user started: only they may collect it, and only for the
    personal number they started it with."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bankid_orders"
    )
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    order_ref = models.CharField(max_length=100)
    personal_number = models.CharField(max_length=20)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "order_ref"], name="syncing_bankid_order_unique"
            )
        ]

    def __str__(self) -> str:
        return f"BankID order of {self.user}"


class Connection(TimeStampedModel):
    """A hub user's link to an Organisation Kit integration through one of their verified
    identities; its accounts are mirrored by syncs."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        IN_PROGRESS = "IN_PROGRESS"
        SUCCESS = "SUCCESS"
        ERROR = "ERROR"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections"
    )
    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="connections"
    )
    identity = models.ForeignKey(
        VerifiedIdentity, on_delete=models.PROTECT, related_name="connections"
    )
    auto_sync = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "integration", "identity"], name="syncing_connection_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Connection {self.pk} of {self.user} to {self.integration}"


class Channel(TimeStampedModel):
    """The sync state of one data category of a connection (reference 002's channels)."""

    class Definition(models.TextChoices):
        ACCOUNTS = "accounts"
        USERS = "users"
        LOCATIONS = "locations"
        AGREEMENTS = "agreements"
        PRODUCTS = "products"
        INVOICES = "invoices"

    class Status(models.TextChoices):
        PENDING = "PENDING"
        IN_PROGRESS = "IN_PROGRESS"
        SUCCESS = "SUCCESS"
        ERROR = "ERROR"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="channels")
    definition = models.CharField(max_length=20, choices=Definition.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_end_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connection", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "definition"], name="syncing_channel_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.definition} of connection {self.connection_id}"


class SyncJob(TimeStampedModel):
    """One sync of a connection, from queued to its end. At most one per connection is queued
    or running (a partial unique constraint)."""

    class Kind(models.TextChoices):
        INITIAL = "INITIAL", "Initial (steps 1-4)"
        ALL = "ALL", "All (steps 1-4)"
        ACCOUNT = "ACCOUNT", "Account (steps 1-3)"
        ACCOUNT_INVOICES = "ACCOUNT_INVOICES", "Account, then invoices (Sync Account)"
        INVOICES = "INVOICES", "Invoices"
        LIST_ACCOUNTS = "LIST_ACCOUNTS", "List accounts, then all"

    class Status(models.TextChoices):
        QUEUED = "QUEUED"
        RUNNING = "RUNNING"
        SUCCESS = "SUCCESS"
        ERROR = "ERROR"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_jobs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=30, blank=True)
    # A long sync works in slices (django-q2 kills a task at its timeout): the step the next
    # slice starts at, the number of the last slice queued, and of the last slice claimed.
    next_step = models.PositiveSmallIntegerField(default=1)
    slice_number = models.PositiveIntegerField(default=0)
    slice_claimed = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Asked for while this one ran, with steps it lacks (Sync Account during a sign-in's
    # account sync): queued as soon as this one ends, so that no request is dropped.
    then_kind = models.CharField(max_length=20, choices=Kind.choices, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(status__in=["QUEUED", "RUNNING"]),
                name="syncing_one_active_sync_per_connection",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} sync {self.pk} of connection {self.connection_id}"


class EventQueue(TimeStampedModel):
    """A user's queue of sync events (reference 002); every user gets `default` with their
    first connection."""

    DEFAULT_NAME = "default"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_queues"
    )
    name = models.CharField(max_length=100, default=DEFAULT_NAME)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="syncing_queue_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} queue of {self.user}"


class Event(models.Model):
    """One step's outcome (`<STEP>_SUCCESS|_ERROR`, `SYNC_ALL_*`, `LIST_ACCOUNTS_SUCCESS`)
    with the resource it is about, as the user polls it."""

    queue = models.ForeignKey(EventQueue, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=40)
    resource_type = models.CharField(max_length=20)
    resource = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"


class Account(TimeStampedModel):
    """A partner account mirrored for a connection, with the hub user's role on it. An account
    the partner no longer lists is kept as not present, and restored when it comes back."""

    class Role(models.TextChoices):
        OWNER = "OWNER"
        GUEST = "GUEST"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="accounts")
    partner_id = models.CharField(max_length=100)
    customer_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=50, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.GUEST)
    is_present = models.BooleanField(default=True)

    class Meta:
        ordering = ["connection", "partner_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "partner_id"], name="syncing_account_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Account {self.partner_id}"


class AccountUser(models.Model):
    """A partner user with their role on a mirrored account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="users")
    partner_id = models.CharField(max_length=100)
    role = models.CharField(max_length=10)
    name = models.CharField(max_length=200, blank=True)
    email_address = models.CharField(max_length=254, blank=True)
    phone_number = models.CharField(max_length=50, blank=True)
    # This partner user is the connection's hub user (matched on a verified identity): they
    # may update their own phone number and email.
    is_hub_user = models.BooleanField(default=False)

    class Meta:
        ordering = ["account", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Location(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="locations")
    partner_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["account", "id"]

    def __str__(self) -> str:
        return self.name or self.partner_id


class Service(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="services")
    partner_id = models.CharField(max_length=100)
    type = models.CharField(max_length=50, blank=True)
    name = models.CharField(max_length=200, blank=True)
    measurement_id = models.CharField(max_length=100, blank=True)
    cost_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["location", "id"]

    def __str__(self) -> str:
        return self.name or self.partner_id


class Agreement(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="agreements")
    partner_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=50, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["service", "id"]

    def __str__(self) -> str:
        return self.name or self.partner_id


class Product(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="products")
    partner_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["service", "id"]

    def __str__(self) -> str:
        return self.name or self.partner_id


class InvoiceState(models.Model):
    """The last seen status of one partner invoice of a mirrored account. Invoices themselves
    are never stored (reference 000): only this, to tell when one appears or changes."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invoice_states")
    invoice_id = models.CharField(max_length=100)
    status = models.CharField(max_length=20)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["account", "invoice_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "invoice_id"], name="syncing_invoice_state_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Invoice {self.invoice_id}: {self.status}"


class Notification(models.Model):
    """Something the account owner should act on (an invoice appeared as new, or became paid
    or overdue). One per invoice and kind, whatever the number of runs; delivered through the
    notifier and reported to the organisation each exactly once (claimed before sending)."""

    class Kind(models.TextChoices):
        INVOICE_NEW = "INVOICE_NEW", "New invoice"
        INVOICE_PAID = "INVOICE_PAID", "Invoice paid"
        INVOICE_OVERDUE = "INVOICE_OVERDUE", "Invoice overdue"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="notifications"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notifications")
    invoice_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Delivery: a sender claims the row until claimed_until, so that two clusters never both
    # send it; each side effect is marked done separately and retried after next_attempt_at.
    claimed_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=500, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    report_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "invoice_id", "kind"], name="syncing_notification_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True) | Q(reported_at__isnull=True),
                name="syncing_notification_undone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.invoice_id}"
