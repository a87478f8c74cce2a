"""Demo records: a few hundred customers and a few thousand orders over the last months,
so that the pipelines have something real to move. Deterministic and idempotent."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from integration_hub.models import Customer, Subscriber
from integration_hub.services.customers import (
    customer_create,
    customer_note_add,
    customer_segment_join,
)
from integration_hub.services.orders import ItemInput, PaymentInput, order_post, to_cents

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Radia",
    "Tim",
    "Margaret",
    "Linus",
    "Sophie",
    "John",
    "Hedy",
    "Dennis",
    "Katherine",
    "Guido",
    "Anita",
    "Niklaus",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Lee",
    "Hamilton",
    "Torvalds",
    "Wilson",
    "Backus",
    "Lamarr",
    "Ritchie",
    "Johnson",
    "Rossum",
    "Borg",
    "Wirth",
]
CATALOGUE = [
    ("Yoga class", "Classes", "0.0800", "20.00"),
    ("Pilates class", "Classes", "0.0800", "25.00"),
    ("Personal training", "Classes", "0.0800", "60.00"),
    ("Water", "Retail", "0.0800", "2.50"),
    ("Yoga mat", "Retail", "0.0800", "35.00"),
    ("Towel", "Retail", "0.0800", "12.00"),
    ("Monthly membership", "Memberships", "0.0000", "49.00"),
    ("Gift card", "Gift cards", "0.0000", "50.00"),
]
METHODS = ["VISA", "VISA", "MASTERCARD", "CASH", "AMEX"]
SEGMENTS = ["VIP", "Newsletter", "Morning classes", "Lapsed"]
PREFIX = "DEMO-"


@transaction.atomic
def demo_records_load(
    *, subscriber: Subscriber, customers: int = 300, orders: int = 3000, days: int = 120
) -> tuple[int, int]:
    """Create the demo customers and orders once; returns how many were created now."""
    if Customer.objects.filter(subscriber=subscriber, customer_id__startswith=PREFIX).exists():
        return 0, 0
    rng = random.Random(20261122)  # noqa: S311 (demo data, not security)
    today = timezone.localdate()
    people = [
        _demo_customer(subscriber, n, rng, today=today, days=days) for n in range(1, customers + 1)
    ]
    for n in range(1, orders + 1):
        items = _demo_items(rng)
        payments = _demo_payments(rng, items)  # drawn before the customer, as always
        order_post(
            subscriber=subscriber,
            retail_transaction_id=f"{PREFIX}T{n:06d}",
            customer=rng.choice(people) if rng.random() < 0.8 else None,
            business_date=today - timedelta(days=rng.randrange(0, days)),
            currency="USD",
            items=items,
            payments=payments,
        )
    return customers, orders


def _demo_customer(subscriber: Subscriber, n: int, rng: random.Random, *, today, days: int):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    customer = customer_create(
        subscriber=subscriber,
        customer_id=f"{PREFIX}{n:04d}",
        first_name=first,
        last_name=last,
        email=f"{first}.{last}.{n}@example.com".lower().replace(" ", ""),
        phone=f"+4670{rng.randrange(1000000, 9999999)}",
        signup_date=today - timedelta(days=rng.randrange(days, days * 4)),
        language_code=rng.choice(["en", "sv", "en", "de"]),
    )
    if rng.random() < 0.3:
        customer_segment_join(customer=customer, segment_name=rng.choice(SEGMENTS))
    if rng.random() < 0.1:
        customer_note_add(customer=customer, text="Prefers to be contacted by email.")
    return customer


def _demo_items(rng: random.Random) -> list[ItemInput]:
    items = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        description, category, rate, price = rng.choice(CATALOGUE)
        items.append(
            ItemInput(
                category,
                Decimal(rate),
                Decimal(rng.choice([1, 1, 1, 2])),
                Decimal(price),
                description,
            )
        )
    return items


def _demo_payments(rng: random.Random, items: list[ItemInput]) -> list[PaymentInput]:
    """Payments adding up to the items' gross total: now and then part in cash."""
    total = sum(
        (
            to_cents(i.quantity * i.unit_price) + to_cents(i.quantity * i.unit_price * i.tax_rate)
            for i in items
        ),
        Decimal("0"),
    )
    if rng.random() < 0.1 and total > Decimal("10"):
        cash = to_cents(total * Decimal("0.3"))
        return [PaymentInput("CASH", cash), PaymentInput(rng.choice(METHODS[:3]), total - cash)]
    return [PaymentInput(rng.choice(METHODS), total)]
