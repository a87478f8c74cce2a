import io
import json

import pytest
from django.core.management import call_command

from integration_hub.batch_import import customers_import, orders_import
from integration_hub.models import Customer, CustomerNote, Order
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create, customer_note_add
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _run(command, path):
    """(exit status, stdout, stderr) of a management command."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


CUSTOMERS = """Action,customerId,firstName,lastName,email,customerIds
Add,C1,Ada,Lovelace,ada@example.com,
Add,C2,Bob,,not-an-email,
AddorUpdate,C3,Cy,,cy@example.com,
Add,C1,Again,,,
AddorUpdate,C3,Cyrus,,,
Delete,C404,,,,
Frobnicate,C5,,,,
"""


def test_a_customer_file_mixing_good_and_bad_rows_applies_the_good_and_names_each_bad_line(
    tmp_path,
):
    status, out, err = _run("import_customers", _write(tmp_path, "customers.csv", CUSTOMERS))
    assert status == 1
    assert "customers.csv: 3 applied, 4 rejected" in out
    assert "line 3: email: Enter a valid email address." in err
    assert "line 5: customerId: Customer C1 already exists." in err
    assert "line 7: customerId: No customer C404 to delete." in err
    assert "line 8: Action: 'Frobnicate' is not one of Add, AddorUpdate, Delete, Merge." in err
    names = dict(Customer.objects.values_list("customer_id", "first_name"))
    assert names == {"C1": "Ada", "C3": "Cyrus"}, "AddorUpdate updated C3; C2 never written"


def test_each_action_does_what_it_says(tmp_path):
    subscriber = default_subscriber()
    first = customer_create(subscriber=subscriber, customer_id="M1", first_name="Ann")
    customer_note_add(customer=first, text="from M1")
    customer_create(subscriber=subscriber, customer_id="M2", last_name="Smith")
    customer_create(subscriber=subscriber, customer_id="GONE")
    text = (
        "Action,customerId,firstName,customerIds\n"
        "Add,NEW,Nina,\n"
        "AddorUpdate,NEW,Nora,\n"
        "Delete,GONE,,\n"
        "Merge,,,M1;M2\n"
    )
    status, out, _ = _run("import_customers", _write(tmp_path, "actions.csv", text))
    assert (status, out.strip().endswith("4 applied, 0 rejected")) == (0, True)
    assert Customer.objects.get(customer_id="NEW").first_name == "Nora"
    assert not Customer.objects.filter(customer_id__in=["GONE", "M1", "M2"]).exists()
    merged = Customer.objects.exclude(customer_id="NEW").get()
    assert (merged.first_name, merged.last_name) == ("Ann", "Smith")
    assert list(CustomerNote.objects.values_list("text", flat=True)) == ["from M1"]


def test_customers_import_from_json_lines_with_the_api_bodies(tmp_path):
    other = SubscriberFactory()
    lines = [
        {"action": "Add", "customerId": "J1", "firstName": "Jo", "subscriberId": other.pk},
        {"customerId": "J2", "prospect": "maybe"},
        ["not", "an", "object"],
        {"Action": "Merge", "customerIds": ["J1"], "subscriberId": other.pk},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n{broken\n"
    status, out, err = _run("import_customers", _write(tmp_path, "c.jsonl", text))
    assert status == 1
    assert "1 applied, 4 rejected" in out
    assert "line 2: prospect: Must be a valid boolean." in err
    assert "line 3: Each line must be a JSON object." in err
    assert "line 4: customerIds: a Merge row names at least two ids" in err
    assert "line 5: Not valid JSON" in err
    assert Customer.objects.get().subscriber == other


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "Cannot open"),
        ("latin1.csv", "customerId,firstName\nC1,Jos\xe9\n", "not UTF-8"),
        ("customers.xlsx", "customerId\nC1\n", "Cannot tell the format"),
        ("empty.csv", "", "needs a header row"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2_and_imports_nothing(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content.encode("latin-1"))
    status, _, err = _run("import_customers", path)
    assert status == 2
    assert message in err
    assert not Customer.objects.exists()


ORDERS_HEADER = (
    "retailTransactionId,customerId,businessDate,currency,payments,"
    "description,revenueCategory,taxRate,quantity,unitPrice\n"
)
ORDERS = (
    ORDERS_HEADER
    + """\
T1,C1,2026-11-20,USD,VISA:21.60;CASH:5.40,Yoga class,Classes,0.0800,1,20.00
T1,C1,2026-11-20,USD,VISA:21.60;CASH:5.40,Water,Retail,0.0800,2,2.50
T2,,2026-11-20,USD,VISA:1.00,Mat,Retail,0.0800,1,20.00
T3,,2026-11-21,USD,CASH:10.00,Towel,Retail,0.0000,1,10.00
T4,,2026-11-21,USD,CASH,Towel,Retail,0.0000,1,10.00
T5,,2026-11-21,USD,CASH:10.00,Towel,Retail,0.0000,0,10.00
"""
)


def test_an_order_file_groups_item_rows_and_reports_each_bad_order_by_its_first_line(tmp_path):
    customer_create(subscriber=default_subscriber(), customer_id="C1")
    status, out, err = _run("import_orders", _write(tmp_path, "orders.csv", ORDERS))
    assert status == 1
    assert "2 applied, 3 rejected" in out
    assert "line 4: payments: Payments add up to 1.00 but the order's gross total is 21.60." in err
    assert "line 6: payments: 'CASH' is not METHOD:AMOUNT" in err
    assert "line 7: items[0].quantity: Ensure this value is greater than or equal to 0.001." in err
    t1 = Order.objects.get(retail_transaction_id="T1")
    assert (t1.items.count(), str(t1.total)) == (2, "27.00")
    assert list(t1.payments.values_list("payment_method", flat=True)) == ["VISA", "CASH"]


def test_orders_import_from_json_lines(tmp_path):
    body = {
        "retailTransactionId": "J1",
        "businessDate": "2026-11-20",
        "currency": "usd",
        "items": [
            {"revenueCategory": "Classes", "taxRate": "0.08", "quantity": 1, "unitPrice": "20.00"}
        ],
        "payments": [{"paymentMethod": "VISA", "amount": "21.60"}],
    }
    status, out, _ = _run("import_orders", _write(tmp_path, "o.jsonl", json.dumps(body) + "\n"))
    assert (status, "1 applied, 0 rejected" in out) == (0, True)
    assert Order.objects.get().currency == "USD"


def test_a_rejected_order_leaves_no_half_written_rows(tmp_path):
    text = ORDERS_HEADER + "T7,,2026-11-20,USD,VISA:9.99,A,Retail,0.0800,1,20.00\n"
    _run("import_orders", _write(tmp_path, "o.csv", text))
    assert not Order.objects.exists()
    from integration_hub.models import OrderItem, OrderPayment

    assert not OrderItem.objects.exists()
    assert not OrderPayment.objects.exists()


def test_imports_through_the_service_send_the_domain_signals(tmp_path):
    from integration_hub import signals

    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs.get("customer") or kwargs.get("order"))

    signals.customer_created.connect(receiver)
    signals.order_posted.connect(receiver)
    try:
        customers_import(source=_write(tmp_path, "c.csv", "customerId\nS1\n"))
        orders_import(source=_write(tmp_path, "o.csv", ORDERS.replace(",C1,", ",S1,")))
    finally:
        signals.customer_created.disconnect(receiver)
        signals.order_posted.disconnect(receiver)
    assert [str(x) for x in seen] == ["S1", "T1", "T3"]


def test_a_file_that_breaks_after_many_rows_applies_those_before_and_reports_where_it_stopped(
    tmp_path,
):
    from integration_hub.batch_import import CHUNK_ROWS

    good = "".join(f"AddorUpdate,G{n}\n" for n in range(CHUNK_ROWS * 2 + 200))
    path = tmp_path / "big.csv"
    path.write_bytes(b"Action,customerId\n" + good.encode() + b"AddorUpdate,BAD\xff\n")
    status, out, err = _run("import_customers", path)
    assert status == 1
    assert f"{CHUNK_ROWS * 2 + 200} applied, 1 rejected" in out
    assert "not UTF-8 text" in err
    assert "the rest was not read" in err
    assert Customer.objects.count() == CHUNK_ROWS * 2 + 200


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"customerId": "A2", "subscriberId": "abc"}', "subscriberId: A subscriber id"),
        ('{"Action": "Merge", "customerIds": 5}', "customerIds: a Merge row names"),
    ],
)
def test_a_malformed_row_is_rejected_alone_and_the_good_rows_still_apply(tmp_path, row, message):
    text = '{"customerId": "A1"}\n' + row + "\n"
    status, out, err = _run("import_customers", _write(tmp_path, "c.jsonl", text))
    assert status == 1
    assert "1 applied, 1 rejected" in out
    assert f"line 2: {message}" in err
    assert list(Customer.objects.values_list("customer_id", flat=True)) == ["A1"]
