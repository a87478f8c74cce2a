"""Every operation of the core records API (DESIGN.md, "Core records") for the callers it
refuses: anonymous (401), roles without access (403), and an Owner reaching another
subscriber's records; and that a refused call changes nothing."""

from decimal import Decimal

import pytest

from integration_hub.models import Customer, CustomerNote, Order, Segment
from integration_hub.services.customers import customer_create, customer_segment_join
from integration_hub.services.orders import ItemInput, PaymentInput, order_post
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "retailTransactionId": "T2",
    "businessDate": "2026-11-20",
    "currency": "USD",
    "items": [
        {"revenueCategory": "Classes", "taxRate": "0.0000", "quantity": 1, "unitPrice": "5.00"}
    ],
    "payments": [{"paymentMethod": "CASH", "amount": "5.00"}],
}


def operations(subscriber_id: int) -> list[tuple[str, str, dict | None]]:
    """(method, path, body) of every operation, aimed at the records of `subscriber_id`."""
    scope = f"?subscriberId={subscriber_id}"
    return [
        ("get", f"/api/v1/customers/{scope}", None),
        ("post", "/api/v1/customers/", {"customerId": "NEW", "subscriberId": subscriber_id}),
        ("get", f"/api/v1/customers/C1/{scope}", None),
        ("patch", f"/api/v1/customers/C1/{scope}", {"firstName": "Changed"}),
        ("delete", f"/api/v1/customers/C1/{scope}", None),
        (
            "post",
            "/api/v1/customers/merge/",
            {"customerIds": ["C1", "C2"], "subscriberId": subscriber_id},
        ),
        ("post", f"/api/v1/customers/C1/notes/{scope}", {"text": "a note"}),
        ("put", f"/api/v1/customers/C1/segments/GOLD/{scope}", None),
        ("delete", f"/api/v1/customers/C1/segments/VIP/{scope}", None),
        ("get", f"/api/v1/orders/{scope}", None),
        ("post", "/api/v1/orders/", {**ORDER, "subscriberId": subscriber_id}),
        ("get", f"/api/v1/orders/T1/{scope}", None),
        ("patch", f"/api/v1/orders/T1/{scope}", {"currency": "EUR"}),
    ]


OPERATION_IDS = [f"{method} {path.split('?')[0]}" for method, path, _ in operations(1)]


@pytest.fixture
def records():
    """C1 (in segment VIP) and C2, and order T1 of C1, in a subscriber of their own."""
    subscriber = SubscriberFactory(name="Elsewhere")
    c1 = customer_create(subscriber=subscriber, customer_id="C1", first_name="Ada")
    customer_create(subscriber=subscriber, customer_id="C2", first_name="Bob")
    customer_segment_join(customer=c1, segment_name="VIP")
    order_post(
        subscriber=subscriber,
        customer=c1,
        retail_transaction_id="T1",
        business_date=c1.signup_date,
        currency="USD",
        items=[
            ItemInput(
                revenue_category="Classes",
                tax_rate=Decimal("0"),
                quantity=Decimal(1),
                unit_price=Decimal("5.00"),
            )
        ],
        payments=[PaymentInput(payment_method="CASH", amount=Decimal("5.00"))],
    )
    return subscriber


def snapshot():
    return (
        sorted(Customer.objects.values_list("customer_id", "first_name")),
        CustomerNote.objects.count(),
        sorted(Segment.objects.values_list("name", "customers__customer_id")),
        sorted(Order.objects.values_list("retail_transaction_id", "currency")),
    )


def _call(client, method, path, body):
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize("operation", range(len(OPERATION_IDS)), ids=OPERATION_IDS)
def test_an_anonymous_caller_gets_401_for_every_operation(api_client, records, operation):
    before = snapshot()
    method, path, body = operations(records.pk)[operation]

    response = _call(api_client, method, path, body)

    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("role", ["job_admin", "plain_user"])
@pytest.mark.parametrize("operation", range(len(OPERATION_IDS)), ids=OPERATION_IDS)
def test_roles_without_access_get_403_for_every_operation(
    request, api_as, records, role, operation
):
    before = snapshot()
    method, path, body = operations(records.pk)[operation]

    response = _call(api_as(request.getfixturevalue(role)), method, path, body)

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("operation", range(len(OPERATION_IDS)), ids=OPERATION_IDS)
def test_an_owner_reaches_none_of_another_subscribers_records(api_as, owner, records, operation):
    before = snapshot()
    method, path, body = operations(records.pk)[operation]

    response = _call(api_as(owner), method, path, body)

    # Named by subscriber: refused (403), whether or not that subscriber has the record, so
    # that nothing tells the owner another subscriber has a customer C1 or an order T1.
    assert response.status_code == 403
    assert snapshot() == before
