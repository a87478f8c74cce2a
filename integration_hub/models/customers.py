from django.db import models
from django.db.models.functions import Lower

from .base import TimeStampedModel
from .subscribers import Subscriber


class Customer(TimeStampedModel):
    """A customer of a subscriber's business. `customer_id` is the business's own identifier,
    unique within the subscriber (reference 003's customerID)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="customers")
    customer_id = models.CharField(max_length=64)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    language_code = models.CharField(max_length=10, blank=True)
    signup_date = models.DateField(null=True, blank=True)
    retail_store_id = models.CharField(max_length=64, blank=True)
    customer_class = models.CharField(max_length=64, blank=True)
    prospect = models.BooleanField(default=False)
    segments = models.ManyToManyField(
        "Segment", through="CustomerSegment", related_name="customers"
    )

    class Meta:
        ordering = ["subscriber_id", "customer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "customer_id"], name="customer_id_unique_per_subscriber"
            ),
            models.CheckConstraint(
                condition=~models.Q(customer_id=""), name="customer_id_not_blank"
            ),
        ]
        indexes = [models.Index(Lower("email"), name="customer_email_lower")]

    def __str__(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return f"{self.customer_id} {name}".strip()


class CustomerNote(TimeStampedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="note_not_blank")]

    def __str__(self) -> str:
        return self.text[:50]


class Segment(TimeStampedModel):
    """A named group of customers (reference 003: addCustomerToSegment)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "name"], name="segment_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CustomerSegment(TimeStampedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "segment"], name="customer_segment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.segment}"
