from django.conf import settings
from django.db import models

from .base import TimeStampedModel


class Subscriber(TimeStampedModel):
    """A business using the hub. The first one created (id 1) is the default subscriber."""

    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class SubscriberOwner(TimeStampedModel):
    """A user holding the Owner role for one subscriber."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="owners")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_subscribers"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "user"], name="subscriber_owner_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} owns {self.subscriber}"
