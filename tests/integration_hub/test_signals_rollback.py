"""A receiver of a domain signal writes in the transaction of the change (as Data Sync's
capture does): when anything fails before commit, neither the change nor what the receiver
wrote is left. Run with real transactions (not the test's wrapping one)."""

from decimal import Decimal

import pytest

from integration_hub import signals
from integration_hub.models import AuditEntry, Customer, CustomerNote, Order
from integration_hub.selectors import default_subscriber
from integration_hub.services import customers as svc
from integration_hub.services.audit import audit_record
from integration_hub.services.orders import ItemInput, PaymentInput, order_modify, order_post

pytestmark = pytest.mark.django_db(transaction=True)


class ReceiverFailed(Exception):
    pass


def _failing_receiver(sender, **kwargs):
    # Write first (a captured row), then fail: both must vanish with the change.
    audit_record(actor=None, action="captured")
    raise ReceiverFailed


def _order(customer=None, rtid="T1"):
    return order_post(
        subscriber=default_subscriber(),
        retail_transaction_id=rtid,
        customer=customer,
        business_date="2026-11-20",
        currency="USD",
        items=[ItemInput("Classes", Decimal("0"), Decimal("1"), Decimal("10.00"))],
        payments=[PaymentInput("CASH", Decimal("10.00"))],
    )


CASES = {
    "customer_created": lambda c: svc.customer_create(
        subscriber=default_subscriber(), customer_id="NEW"
    ),
    "customer_updated": lambda c: svc.customer_update(customer=c, first_name="Changed"),
    "customer_deleted": lambda c: svc.customer_delete(customer=c),
    "customers_merged": lambda c: svc.customer_merge(
        subscriber=default_subscriber(), customer_ids=["C1", "C2"]
    ),
    "customer_note_added": lambda c: svc.customer_note_add(customer=c, text="note"),
    "customer_segment_joined": lambda c: svc.customer_segment_join(customer=c, segment_name="S"),
    "order_posted": lambda c: _order(c, "T2"),
    "order_modified": lambda c: order_modify(
        order=Order.objects.get(retail_transaction_id="T1"), currency="EUR"
    ),
}


@pytest.mark.parametrize("signal_name", sorted(CASES))
def test_a_failing_receiver_rolls_back_the_change_and_what_it_wrote(signal_name):
    first = svc.customer_create(subscriber=default_subscriber(), customer_id="C1", first_name="A")
    svc.customer_create(subscriber=default_subscriber(), customer_id="C2")
    _order(first)
    before = (
        sorted(Customer.objects.values_list("customer_id", "first_name")),
        sorted(Order.objects.values_list("retail_transaction_id", "currency")),
        CustomerNote.objects.count(),
    )
    signal = getattr(signals, signal_name)
    signal.connect(_failing_receiver)
    try:
        with pytest.raises(ReceiverFailed):
            CASES[signal_name](first)
    finally:
        signal.disconnect(_failing_receiver)
    after = (
        sorted(Customer.objects.values_list("customer_id", "first_name")),
        sorted(Order.objects.values_list("retail_transaction_id", "currency")),
        CustomerNote.objects.count(),
    )
    assert after == before
    assert not AuditEntry.objects.filter(action="captured").exists()
