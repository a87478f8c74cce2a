from decimal import Decimal

import pytest

from integration_hub import signals
from integration_hub.models import Order, OrderItem
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "retailTransactionId": "T1",
    "customerId": "C1",
    "subscriberId": 1,
    "businessDate": "2026-11-20",
    "currency": "USD",
    "items": [
        {
            "description": "Yoga class",
            "revenueCategory": "Classes",
            "taxRate": "0.0800",
            "quantity": 1,
            "unitPrice": "20.00",
        }
    ],
    "payments": [{"paymentMethod": "VISA", "amount": "21.60"}],
}


@pytest.fixture
def ada(db):
    return customer_create(subscriber=default_subscriber(), customer_id="C1", first_name="Ada")


def _order(**changes):
    return {**ORDER, "subscriberId": default_subscriber().pk, **changes}


def test_an_owner_posts_an_order_and_gets_its_totals(api_as, owner, ada):
    response = api_as(owner).post("/api/v1/orders/", _order(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["retailTransactionId"], data["customerId"]) == ("T1", "C1")
    assert (data["subtotal"], data["taxTotal"], data["total"]) == ("20.00", "1.60", "21.60")
    assert data["items"][0]["taxAmount"] == "1.60"
    assert data["payments"] == [{"paymentMethod": "VISA", "amount": "21.60"}]
    assert Order.objects.get().customer == ada


def test_tax_is_rounded_half_up_per_item(api_as, owner):
    # 3 x 1.15 x 0.10 = 0.345 -> 0.35 (half up; banker's rounding would give 0.34)
    items = [{"revenueCategory": "Retail", "taxRate": "0.1000", "quantity": 3, "unitPrice": "1.15"}]
    body = _order(
        customerId=None, items=items, payments=[{"paymentMethod": "CASH", "amount": "3.80"}]
    )
    response = api_as(owner).post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["taxTotal"] == "0.35"
    assert OrderItem.objects.get().tax_amount == Decimal("0.35")


def test_payments_that_do_not_add_up_are_refused_naming_payments(api_as, owner, ada):
    body = _order(payments=[{"paymentMethod": "VISA", "amount": "20.00"}])
    response = api_as(owner).post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400
    assert response.json()["payments"] == [
        "Payments add up to 20.00 but the order's gross total is 21.60."
    ]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"items": []}, "items"),
        ({"payments": []}, "payments"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"businessDate": "20-11-2026"}, "businessDate"),
        ({"retailTransactionId": ""}, "retailTransactionId"),
    ],
)
def test_invalid_orders_are_refused_naming_the_field(api_as, owner, ada, changes, field):
    response = api_as(owner).post("/api/v1/orders/", _order(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("item_change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"unitPrice": "-1.00"}, "unitPrice"),
        ({"taxRate": "1.5"}, "taxRate"),
        ({"revenueCategory": ""}, "revenueCategory"),
    ],
)
def test_invalid_items_are_refused_naming_the_item_field(api_as, owner, ada, item_change, field):
    items = [{**ORDER["items"][0], **item_change}]
    response = api_as(owner).post("/api/v1/orders/", _order(items=items), format="json")
    assert response.status_code == 400
    assert field in response.json()["items"]["0"], response.json()


def test_a_negative_payment_is_refused(api_as, owner, ada):
    body = _order(payments=[{"paymentMethod": "VISA", "amount": "-21.60"}])
    response = api_as(owner).post("/api/v1/orders/", body, format="json")
    assert "amount" in response.json()["payments"]["0"]


def test_a_transaction_id_is_posted_once(api_as, owner, ada):
    client = api_as(owner)
    assert client.post("/api/v1/orders/", _order(), format="json").status_code == 201
    again = client.post("/api/v1/orders/", _order(), format="json")
    assert again.status_code == 409
    assert "already posted" in again.json()["retailTransactionId"][0]


def test_an_order_is_modified_and_its_totals_recomputed(api_as, owner, ada):
    client = api_as(owner)
    client.post("/api/v1/orders/", _order(), format="json")
    before = Order.objects.get().updated_at
    items = [{**ORDER["items"][0], "quantity": 2}]
    refused = client.patch("/api/v1/orders/T1/", {"items": items}, format="json")
    assert refused.status_code == 400, "payments no longer add up"
    patched = client.patch(
        "/api/v1/orders/T1",
        {
            "items": items,
            "payments": [{"paymentMethod": "CASH", "amount": "43.20"}],
            "customerId": None,
        },
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    data = patched.json()
    assert (data["total"], data["customerId"]) == ("43.20", None)
    assert Order.objects.get().updated_at > before


def test_orders_of_another_subscriber_are_refused_to_an_owner(api_as, owner, system_admin):
    other = SubscriberFactory()
    admin = api_as(system_admin)
    body = _order(subscriberId=other.pk, customerId=None)
    assert admin.post("/api/v1/orders/", body, format="json").status_code == 201
    client = api_as(owner)
    assert client.get("/api/v1/orders/T1/").status_code == 404, "no hint that T1 exists"
    assert client.patch("/api/v1/orders/T1/", {"currency": "EUR"}, format="json").status_code == 404
    assert (
        client.post(
            "/api/v1/orders/", {**body, "retailTransactionId": "T2"}, format="json"
        ).status_code
        == 403
    )
    assert admin.get(f"/api/v1/orders/T1/?subscriberId={other.pk}").status_code == 200


def test_job_admins_cannot_post_orders(api_as, job_admin):
    assert (
        api_as(job_admin)
        .post("/api/v1/orders/", _order(customerId=None), format="json")
        .status_code
        == 403
    )


def test_posting_and_modifying_send_their_signals(api_as, owner, ada):
    received = []

    def on_posted(sender, order, **kwargs):
        received.append(("posted", order.retail_transaction_id))

    def on_modified(sender, order, changed_fields, **kwargs):
        received.append(("modified", tuple(changed_fields)))

    signals.order_posted.connect(on_posted)
    signals.order_modified.connect(on_modified)
    try:
        client = api_as(owner)
        client.post("/api/v1/orders/", _order(), format="json")
        client.patch("/api/v1/orders/T1/", {"businessDate": "2026-11-21"}, format="json")
        client.patch("/api/v1/orders/T1/", {"businessDate": "2026-11-21"}, format="json")
    finally:
        signals.order_posted.disconnect(on_posted)
        signals.order_modified.disconnect(on_modified)
    assert received == [("posted", "T1"), ("modified", ("business_date",))]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"revenueCategory": "X"}]}, "items"),
        ({"payments": [{"amount": "21.60"}]}, "payments"),
    ],
)
def test_a_patch_with_incomplete_items_or_payments_is_a_400_naming_them(
    api_as, owner, ada, body, field
):
    client = api_as(owner)
    client.post("/api/v1/orders/", _order(), format="json")
    response = client.patch("/api/v1/orders/T1/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Order.objects.get().total == Decimal("21.60")


def test_two_subscribers_may_post_the_same_order_id_and_each_reads_its_own(
    api_as, owner, system_admin
):
    """Issue 13, finding 4: ids are the business's own, unique per subscriber. Before, the
    second post answered 'Order T1 was already posted', telling another subscriber's Owner
    that T1 exists, and letting them block a business's real point-of-sale ids."""
    other = SubscriberFactory()
    admin = api_as(system_admin)
    theirs = admin.post(
        "/api/v1/orders/", _order(subscriberId=other.pk, customerId=None), format="json"
    )
    assert theirs.status_code == 201

    mine = api_as(owner).post("/api/v1/orders/", _order(customerId=None), format="json")

    assert mine.status_code == 201, mine.json()
    assert Order.objects.filter(retail_transaction_id="T1").count() == 2
    read = api_as(owner).get("/api/v1/orders/T1/")
    assert (read.status_code, read.json()["subscriberId"]) == (200, mine.json()["subscriberId"])
    elsewhere = admin.get(f"/api/v1/orders/T1/?subscriberId={other.pk}")
    assert elsewhere.json()["subscriberId"] == other.pk
    again = api_as(owner).post("/api/v1/orders/", _order(customerId=None), format="json")
    assert again.status_code == 409
