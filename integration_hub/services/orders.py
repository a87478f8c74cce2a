"""Posting and modifying orders (the point-of-sale "post transaction").

Money is Decimal throughout. An item's net is quantity * unit price and its tax is
quantity * unit price * tax rate, each rounded to the cent half up (DESIGN.md); the order's
gross total is the sum of nets and taxes, and the payments must add up to it exactly.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from integration_hub import signals
from integration_hub.models import Customer, Order, OrderItem, OrderPayment, Subscriber
from integration_hub.services.errors import AlreadyExists

CENT = Decimal("0.01")
_ORDER_FIELDS = ("retail_transaction_id", "business_date", "currency")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ItemInput:
    revenue_category: str
    tax_rate: Decimal
    quantity: Decimal
    unit_price: Decimal
    description: str = ""


@dataclass(frozen=True)
class PaymentInput:
    payment_method: str
    amount: Decimal


def _priced_items(order: Order, items: list[ItemInput]) -> list[OrderItem]:
    if not items:
        raise ValidationError({"items": ["An order needs at least one item."]})
    priced = []
    for sequence, item in enumerate(items, start=1):
        gross = item.quantity * item.unit_price
        priced.append(
            OrderItem(
                order=order,
                sequence=sequence,
                description=item.description,
                revenue_category=item.revenue_category,
                tax_rate=item.tax_rate,
                quantity=item.quantity,
                unit_price=item.unit_price,
                net_amount=to_cents(gross),
                tax_amount=to_cents(gross * item.tax_rate),
            )
        )
    return priced


def _payments(order: Order, payments: list[PaymentInput], total: Decimal) -> list[OrderPayment]:
    if not payments:
        raise ValidationError({"payments": ["An order needs at least one payment."]})
    paid = sum((p.amount for p in payments), Decimal("0"))
    if paid != total:
        raise ValidationError(
            {
                "payments": [
                    f"Payments add up to {paid:.2f} but the order's gross total is {total:.2f}."
                ]
            }
        )
    return [
        OrderPayment(order=order, sequence=n, payment_method=p.payment_method, amount=p.amount)
        for n, p in enumerate(payments, start=1)
    ]


def _price(order: Order, items: list[ItemInput], payments: list[PaymentInput]):
    priced = _priced_items(order, items)
    order.subtotal = sum((i.net_amount for i in priced), Decimal("0"))
    order.tax_total = sum((i.tax_amount for i in priced), Decimal("0"))
    order.total = order.subtotal + order.tax_total
    return priced, _payments(order, payments, order.total)


def _write_lines(order: Order, priced: list[OrderItem], paid: list[OrderPayment]) -> None:
    for line in (*priced, *paid):
        line.order = order
    OrderItem.objects.bulk_create(priced)
    OrderPayment.objects.bulk_create(paid)


def order_arguments(data: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of `order_post` / `order_modify` for an order body validated by
    the order serializers (the API's request or a batch import's row): items and payments
    become their inputs; the customer is the caller's to resolve."""
    arguments = {key: data[key] for key in _ORDER_FIELDS if key in data}
    if "items" in data:
        arguments["items"] = [ItemInput(**item) for item in data["items"]]
    if "payments" in data:
        arguments["payments"] = [PaymentInput(**payment) for payment in data["payments"]]
    return arguments


def _already_posted(retail_transaction_id: str) -> AlreadyExists:
    return AlreadyExists(
        {"retail_transaction_id": [f"Order {retail_transaction_id} was already posted."]}
    )


@transaction.atomic
def order_post(
    *,
    subscriber: Subscriber,
    retail_transaction_id: str,
    business_date: date,
    currency: str,
    items: list[ItemInput],
    payments: list[PaymentInput],
    customer: Customer | None = None,
) -> Order:
    retail_transaction_id = (retail_transaction_id or "").strip()
    if not retail_transaction_id:
        raise ValidationError({"retail_transaction_id": ["This field is required."]})
    if Order.objects.filter(
        subscriber=subscriber, retail_transaction_id=retail_transaction_id
    ).exists():
        raise _already_posted(retail_transaction_id)
    if customer is not None and customer.subscriber_id != subscriber.pk:
        raise ValidationError({"customer_id": ["The customer belongs to another subscriber."]})
    order = Order(
        subscriber=subscriber,
        retail_transaction_id=retail_transaction_id,
        customer=customer,
        business_date=business_date,
        currency=currency.upper(),
    )
    priced, paid = _price(order, items, payments)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        raise _already_posted(retail_transaction_id) from None
    _write_lines(order, priced, paid)
    signals.order_posted.send(sender=Order, order=order)
    return order


@transaction.atomic
def order_modify(
    *,
    order: Order,
    business_date: date | None = None,
    currency: str | None = None,
    customer: Customer | None = None,
    clear_customer: bool = False,
    items: list[ItemInput] | None = None,
    payments: list[PaymentInput] | None = None,
) -> Order:
    """Change an order. Items or payments given replace the old ones; the totals are
    recomputed and the payments must still add up."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    changed = []
    if business_date is not None and business_date != order.business_date:
        order.business_date = business_date
        changed.append("business_date")
    if currency is not None and currency.upper() != order.currency:
        order.currency = currency.upper()
        changed.append("currency")
    if customer is not None and customer.pk != order.customer_id:
        if customer.subscriber_id != order.subscriber_id:
            raise ValidationError({"customer_id": ["The customer belongs to another subscriber."]})
        order.customer = customer
        changed.append("customer")
    elif clear_customer and order.customer_id is not None:
        order.customer = None
        changed.append("customer")
    if items is None and payments is None:
        if not changed:
            return order
        order.save()
    else:
        if items is None:
            items = [
                ItemInput(i.revenue_category, i.tax_rate, i.quantity, i.unit_price, i.description)
                for i in order.items.all()
            ]
        if payments is None:
            payments = [PaymentInput(p.payment_method, p.amount) for p in order.payments.all()]
        priced, paid = _price(order, items, payments)
        order.save()
        order.items.all().delete()
        order.payments.all().delete()
        _write_lines(order, priced, paid)
        changed += ["items", "payments"]
    signals.order_modified.send(sender=Order, order=order, changed_fields=changed)
    return order
