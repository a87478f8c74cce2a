from django.db import models

from .base import TimeStampedModel
from .customers import Customer
from .subscribers import Subscriber

MONEY = {"max_digits": 14, "decimal_places": 2}


class Order(TimeStampedModel):
    """A point-of-sale transaction ("post transaction"): items and the payments that settle it.

    Totals are derived from the items when the order is written; `updated_at` is the
    modification time the accounting export's window reads."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="orders")
    # The business's own id: unique per subscriber (two businesses may use the same ids).
    retail_transaction_id = models.CharField(max_length=64)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    business_date = models.DateField()
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["-business_date", "retail_transaction_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "retail_transaction_id"],
                name="order_id_unique_per_subscriber",
            ),
            models.CheckConstraint(
                condition=~models.Q(retail_transaction_id=""), name="order_id_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0, tax_total__gte=0, total__gte=0),
                name="order_totals_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["subscriber", "updated_at"], name="order_modified")]

    def __str__(self) -> str:
        return self.retail_transaction_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sequence = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    revenue_category = models.CharField(max_length=100)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(**MONEY)
    net_amount = models.DecimalField(**MONEY)
    tax_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["order_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "sequence"], name="order_item_sequence_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0, net_amount__gte=0, tax_amount__gte=0),
                name="item_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0, tax_rate__lt=1), name="item_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.sequence} {self.description}"


class OrderPayment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    sequence = models.PositiveIntegerField()
    payment_method = models.CharField(max_length=50)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["order_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "sequence"], name="order_payment_sequence_unique"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="payment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_method} {self.amount}"
