"""What the customer and order APIs promise a client that generates itself from the schema:
a conflict is 409, an id that names nothing is 404 (however large), and what the schema
declares is what the API refuses with 400."""

import io
import re

import pytest

from integration_hub.batch_import import customers_import
from integration_hub.models import Customer, Order, OrderItem, OrderPayment, Subscriber
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

ADA = {"customerId": "C1", "firstName": "Ada", "lastName": "Lovelace"}
ORDER = {
    "retailTransactionId": "T1",
    "businessDate": "2026-11-20",
    "currency": "USD",
    "items": [
        {"revenueCategory": "Classes", "taxRate": "0.0800", "quantity": 1, "unitPrice": "20.00"}
    ],
    "payments": [{"paymentMethod": "VISA", "amount": "21.60"}],
}
HUGE = 10**40


def _unknown_subscriber_id() -> int:
    return Subscriber.objects.order_by("-id").values_list("id", flat=True).first() + 1000


def _order_counts():
    return Order.objects.count(), OrderItem.objects.count(), OrderPayment.objects.count()


@pytest.fixture(params=["system_admin", "owner"])
def record_keeper(request):
    return request.getfixturevalue(request.param)


def test_posting_an_existing_customer_id_is_a_conflict_naming_it_and_changes_nothing(api_as, owner):
    client = api_as(owner)
    assert client.post("/api/v1/customers/", ADA, format="json").status_code == 201

    again = client.post("/api/v1/customers/", {**ADA, "firstName": "Eve"}, format="json")

    assert again.status_code == 409
    assert "already exists" in again.json()["customerId"][0]
    assert list(Customer.objects.values_list("customer_id", "first_name")) == [("C1", "Ada")]


def test_posting_an_existing_retail_transaction_id_is_a_conflict_and_changes_nothing(api_as, owner):
    client = api_as(owner)
    assert client.post("/api/v1/orders/", ORDER, format="json").status_code == 201
    before = _order_counts()

    again = client.post("/api/v1/orders/", {**ORDER, "currency": "EUR"}, format="json")

    assert again.status_code == 409
    assert "already posted" in again.json()["retailTransactionId"][0]
    assert _order_counts() == before
    assert Order.objects.get().currency == "USD"


def test_a_batch_import_still_rejects_an_existing_customer_id_as_a_row_with_its_line():
    customer_create(subscriber=default_subscriber(), customer_id="C1", first_name="Ada")
    rows = b"action,customerId,firstName\nAdd,C2,Bo\nAdd,C1,Eve\n"
    report = customers_import(source=io.BytesIO(rows), name="customers.csv")

    assert (report.applied, report.rejected) == (1, 1)
    assert str(report.errors[0]) == "line 3: customerId: Customer C1 already exists."


@pytest.mark.parametrize("path", ["/api/v1/customers/", "/api/v1/orders/", "/api/v1/customers/C1/"])
def test_a_subscriber_id_in_a_query_that_names_nothing_is_404(api_as, record_keeper, path):
    unknown = _unknown_subscriber_id()

    response = api_as(record_keeper).get(f"{path}?subscriberId={unknown}")

    assert response.status_code == 404
    assert response.json() == {"subscriberId": [f"No subscriber {unknown}."]}


@pytest.mark.parametrize(
    ("path", "body"), [("/api/v1/customers/", ADA), ("/api/v1/orders/", ORDER)]
)
def test_a_subscriber_id_in_a_body_that_names_nothing_is_404_naming_the_field(
    api_as, record_keeper, path, body
):
    unknown = _unknown_subscriber_id()

    response = api_as(record_keeper).post(path, {**body, "subscriberId": unknown}, format="json")

    assert response.status_code == 404
    assert response.json() == {"subscriberId": [f"No subscriber {unknown}."]}
    assert not Customer.objects.exists()
    assert not Order.objects.exists()


def test_an_owner_still_gets_403_for_a_subscriber_that_exists_but_is_not_theirs(api_as, owner):
    other = SubscriberFactory()

    response = api_as(owner).get(f"/api/v1/customers/?subscriberId={other.pk}")

    assert response.status_code == 403


def test_an_order_naming_a_customer_the_subscriber_lacks_is_404_naming_customer_id(api_as, owner):
    response = api_as(owner).post("/api/v1/orders/", {**ORDER, "customerId": "C404"}, format="json")

    assert response.status_code == 404
    assert "customerId" in response.json()
    assert _order_counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", f"/api/v1/integrations/{HUGE}", None),
        ("get", f"/api/v1/integrations/{HUGE}/", None),
        ("get", f"/api/v1/customers/?subscriberId={HUGE}", None),
        ("get", f"/api/v1/orders/?subscriberId={HUGE}", None),
        ("post", "/api/v1/customers/", {**ADA, "subscriberId": HUGE}),
        ("post", "/api/v1/orders/", {**ORDER, "subscriberId": HUGE}),
    ],
)
def test_an_id_beyond_the_databases_range_is_404_never_500(
    api_as, system_admin, method, path, body
):
    response = getattr(api_as(system_admin), method)(path, body, format="json")

    assert response.status_code == 404
    assert not Customer.objects.exists()


def test_a_long_customer_id_or_transaction_id_in_a_path_is_404(api_as, system_admin):
    client = api_as(system_admin)
    long_id = "9" * 500

    assert client.get(f"/api/v1/customers/{long_id}/").status_code == 404
    assert client.get(f"/api/v1/orders/{long_id}/").status_code == 404


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()["components"]["schemas"]


def test_a_country_code_not_of_two_letters_is_400_and_the_schema_says_so(api_as, owner, schema):
    response = api_as(owner).post("/api/v1/customers/", {**ADA, "countryCode": "S1"}, format="json")

    assert response.status_code == 400
    assert "countryCode" in response.json()
    declared = schema["CustomerCreateRequest"]["properties"]["countryCode"]["oneOf"]
    assert {"type": "string", "maxLength": 2, "pattern": "^[A-Za-z]{2}$"} in declared


@pytest.mark.parametrize(("field", "most"), [("items", 1000), ("payments", 100)])
def test_an_order_without_items_or_payments_is_400_and_the_schema_says_so(
    api_as, owner, schema, field, most
):
    response = api_as(owner).post("/api/v1/orders/", {**ORDER, field: []}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    declared = schema["OrderInputRequest"]["properties"][field]
    assert (declared["minItems"], declared["maxItems"]) == (1, most)


@pytest.mark.parametrize(
    ("component", "field", "refused"),
    [
        ("ItemRequest", "taxRate", "1.5"),
        ("ItemRequest", "quantity", "0.000"),
        ("ItemRequest", "unitPrice", "-1.00"),
        ("PaymentRequest", "amount", "-21.60"),
    ],
)
def test_an_amount_out_of_range_is_400_and_outside_the_schemas_pattern(
    api_as, owner, schema, component, field, refused
):
    key = "items" if component == "ItemRequest" else "payments"
    body = {**ORDER, key: [{**ORDER[key][0], field: refused}]}

    response = api_as(owner).post("/api/v1/orders/", body, format="json")

    assert response.status_code == 400
    assert key in response.json()
    written_as_string, written_as_whole_number = schema[component]["properties"][field]["anyOf"]
    pattern = written_as_string["pattern"]
    assert not re.search(pattern, refused)
    assert re.search(pattern, str(ORDER[key][0][field]))
    assert written_as_whole_number["type"] == "integer"


def test_money_written_as_a_float_is_refused_naming_the_field(api_as, owner):
    body = {**ORDER, "payments": [{**ORDER["payments"][0], "amount": 21.6}]}

    response = api_as(owner).post("/api/v1/orders/", body, format="json")

    assert response.status_code == 400
    assert "amount" in str(response.json()["payments"])


@pytest.mark.parametrize("query", ["?subscriberId=", "?subscriberId=1&subscriberId="])
def test_a_subscriber_id_given_blank_or_twice_is_a_400_not_the_default_subscriber(
    api_as, system_admin, query
):
    response = api_as(system_admin).get(f"/api/v1/customers/{query}")

    assert response.status_code == 400
    assert "subscriberId" in response.json()
