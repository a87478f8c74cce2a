from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from integration_hub.models import TimeStampedModel


class SandboxReceiver(TimeStampedModel):
    """A simulated partner endpoint at /sandbox/receiver/<slug>/.

    An admin can make it fail on purpose: it then answers `respond_status` (with
    Retry-After when set) to every delivery, so that pipelines can show their failure
    handling. Created with defaults on the first delivery to an unknown slug.
    """

    slug = models.SlugField(max_length=100, unique=True)
    respond_status = models.PositiveSmallIntegerField(
        default=200,
        validators=[MinValueValidator(200), MaxValueValidator(599)],
        help_text="The HTTP status every delivery gets (200 accepts; 503, 429, ... fail).",
    )
    retry_after = models.CharField(
        max_length=100,
        blank=True,
        help_text="Retry-After header sent with a failing status: seconds or an HTTP date.",
    )

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(respond_status__gte=200, respond_status__lte=599),
                name="sandbox_receiver_status_range",
            )
        ]

    def __str__(self) -> str:
        return self.slug


class ReceivedRequest(TimeStampedModel):
    """One delivery a sandbox receiver got (with a valid token), as it arrived.

    Headers are kept without Authorization, Cookie and other credential headers; the body
    is cut at BODY_LIMIT bytes.
    """

    BODY_LIMIT = 1_048_576

    receiver = models.ForeignKey(
        SandboxReceiver, on_delete=models.CASCADE, related_name="received_requests"
    )
    method = models.CharField(max_length=10)
    headers = models.JSONField(default=dict)
    body = models.TextField(blank=True)
    body_truncated = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["receiver", "-id"], name="sandbox_received_recent_idx")]

    def __str__(self) -> str:
        return f"{self.method} #{self.pk}"


from .accounting_models import (  # noqa: E402 (the accounting systems' models, in their own module)
    AccountingApp,
    AccountingCall,
    AccountingCompany,
    AccountingGrant,
    AccountingObject,
    AccountingToken,
)
from .organisation_kit_models import (  # noqa: E402 (the simulator's models, in their own module)
    BankIdOrder,
    OrganisationKitAddedUser,
    OrganisationKitEvent,
    OrganisationKitUserChange,
)

__all__ = [
    "AccountingApp",
    "AccountingCall",
    "AccountingCompany",
    "AccountingGrant",
    "AccountingObject",
    "AccountingToken",
    "BankIdOrder",
    "OrganisationKitAddedUser",
    "OrganisationKitEvent",
    "OrganisationKitUserChange",
    "ReceivedRequest",
    "SandboxReceiver",
]
