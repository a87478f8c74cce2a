"""What the Organisation Kit simulator remembers: the writes it accepted and BankID orders.
The partner data itself is generated (organisation_kit_data)."""

from django.db import models

from integration_hub.models import TimeStampedModel


class OrganisationKitUserChange(TimeStampedModel):
    """A partner user's phone number and email as changed by "update user" (blank: as
    generated)."""

    user_id = models.CharField(max_length=100, unique=True)
    phone_number = models.CharField(max_length=50, blank=True)
    email_address = models.CharField(max_length=254, blank=True)

    def __str__(self) -> str:
        return self.user_id


class OrganisationKitAddedUser(TimeStampedModel):
    """A user added to a partner account by "add user"."""

    account_id = models.CharField(max_length=100)
    user_id = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=10, default="GUEST")
    name = models.CharField(max_length=200)
    email_address = models.CharField(max_length=254, blank=True)
    phone_number = models.CharField(max_length=50, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id}/{self.user_id}"


class OrganisationKitEvent(TimeStampedModel):
    """An event reported to the partner by "report event"."""

    account_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100)
    timestamp = models.BigIntegerField()
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.account_id} {self.event_type}"


class BankIdOrder(TimeStampedModel):
    """A simulated BankID authentication: started, then completed (the person signed on their
    phone, simulated by a call to /bankid/complete), then collected."""

    class Status(models.TextChoices):
        PENDING = "pending"
        COMPLETE = "complete"
        FAILED = "failed"

    order_ref = models.CharField(max_length=64, unique=True)
    personal_number = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    def __str__(self) -> str:
        return self.order_ref
