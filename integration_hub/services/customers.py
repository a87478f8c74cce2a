"""Every write of customers, their notes and segments. Each sends its domain signal inside
the transaction (integration_hub.signals)."""

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from integration_hub import signals
from integration_hub.models import (
    Customer,
    CustomerNote,
    CustomerSegment,
    Order,
    Segment,
    Subscriber,
)
from integration_hub.services.errors import AlreadyExists, NamesNothing

# The fields a caller may set; customer_id is the business key and set on create only.
CUSTOMER_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "country_code",
    "language_code",
    "signup_date",
    "retail_store_id",
    "customer_class",
    "prospect",
)


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(CUSTOMER_FIELDS))
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})


def _save_new(customer: Customer) -> None:
    # Field checks here; uniqueness is the database's (one query fewer per row, and no race).
    customer.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise AlreadyExists(
            {"customer_id": [f"Customer {customer.customer_id} already exists."]}
        ) from None


@transaction.atomic
def customer_create(*, subscriber: Subscriber, customer_id: str, **fields) -> Customer:
    _check_fields(fields)
    customer = Customer(subscriber=subscriber, customer_id=(customer_id or "").strip(), **fields)
    if customer.signup_date is None:
        customer.signup_date = timezone.localdate()
    _save_new(customer)
    signals.customer_created.send(sender=Customer, customer=customer)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    """Change the given fields; sends customer_updated only when something changed."""
    _check_fields(fields)
    changed = [name for name, value in fields.items() if getattr(customer, name) != value]
    if not changed:
        return customer
    for name in changed:
        setattr(customer, name, fields[name])
    customer.full_clean(validate_unique=False, validate_constraints=False)
    customer.save(update_fields=[*changed, "updated_at"])
    signals.customer_updated.send(sender=Customer, customer=customer, changed_fields=changed)
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer) -> None:
    # Sent first: a receiver (Data Sync) purges what it queued for this customer, then the
    # row goes, all in one transaction.
    signals.customer_deleted.send(
        sender=Customer,
        subscriber_id=customer.subscriber_id,
        customer_id=customer.customer_id,
        pk=customer.pk,
    )
    customer.delete()


def _new_merged_id(subscriber: Subscriber) -> str:
    while True:
        candidate = f"M{uuid.uuid4().hex[:11].upper()}"
        if not Customer.objects.filter(subscriber=subscriber, customer_id=candidate).exists():
            return candidate


@transaction.atomic
def customer_merge(*, subscriber: Subscriber, customer_ids: list[str]) -> Customer:
    """Merge customers into a new one (reference 003 mergeCustomers).

    Fields come from the first id, blanks filled from the others in order; notes and segments
    are combined; orders move to the new customer; the merged customers are deleted."""
    ids = [str(i) for i in customer_ids]
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise ValidationError({"customer_ids": ["Give at least two different customer ids."]})
    found = {
        c.customer_id: c
        for c in Customer.objects.select_for_update().filter(
            subscriber=subscriber, customer_id__in=ids
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NamesNothing({"customer_ids": [f"No customer {', '.join(missing)}."]})
    sources = [found[i] for i in ids]

    merged = Customer(subscriber=subscriber, customer_id=_new_merged_id(subscriber))
    for name in CUSTOMER_FIELDS:
        values = [getattr(c, name) for c in sources]
        chosen = next((v for v in values if v not in ("", None)), values[0])
        setattr(merged, name, chosen)
    merged.prospect = sources[0].prospect
    _save_new(merged)

    notes = CustomerNote.objects.filter(customer__in=sources).order_by("created_at", "id")
    CustomerNote.objects.bulk_create(
        [CustomerNote(customer=merged, text=note.text) for note in notes]
    )
    segment_ids = set(
        CustomerSegment.objects.filter(customer__in=sources).values_list("segment_id", flat=True)
    )
    CustomerSegment.objects.bulk_create(
        [CustomerSegment(customer=merged, segment_id=pk) for pk in sorted(segment_ids)]
    )

    # Not a change of the sale itself: updated_at stays, so accounting does not export again.
    Order.objects.filter(customer__in=sources).update(customer=merged)

    signals.customers_merged.send(
        sender=Customer, merged=[(c.pk, c.customer_id) for c in sources], customer=merged
    )
    Customer.objects.filter(pk__in=[c.pk for c in sources]).delete()
    return merged


@transaction.atomic
def customer_note_add(*, customer: Customer, text: str) -> CustomerNote:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["A note needs some text."]})
    note = CustomerNote.objects.create(customer=customer, text=text)
    customer.save(update_fields=["updated_at"])  # auto_now: the signal carries it
    signals.customer_note_added.send(sender=Customer, customer=customer, note=note)
    return note


def _segment_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"segment_name": ["A segment name has 1 to 100 characters."]})
    return name


@transaction.atomic
def customer_segment_join(*, customer: Customer, segment_name: str) -> bool:
    """Put the customer in the segment (created if new). True when membership changed."""
    segment, _ = Segment.objects.get_or_create(
        subscriber_id=customer.subscriber_id, name=_segment_name(segment_name)
    )
    _, created = CustomerSegment.objects.get_or_create(customer=customer, segment=segment)
    if created:
        customer.save(update_fields=["updated_at"])  # auto_now: the signal carries it
        signals.customer_segment_joined.send(sender=Customer, customer=customer, segment=segment)
    return created


@transaction.atomic
def customer_segment_leave(*, customer: Customer, segment_name: str) -> bool:
    """Take the customer out of the segment. True when membership changed."""
    membership = (
        CustomerSegment.objects.filter(customer=customer, segment__name=_segment_name(segment_name))
        .select_related("segment")
        .first()
    )
    if membership is None:
        return False
    membership.delete()
    customer.save(update_fields=["updated_at"])  # auto_now: the signal carries it
    signals.customer_segment_left.send(
        sender=Customer, customer=customer, segment=membership.segment
    )
    return True
