import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from integration_hub import signals
from integration_hub.models import Customer, Order
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_system_config_uploads_a_customer_file_and_sees_each_rejected_line(
    admin_client_for, system_config
):
    client = admin_client_for(system_config)
    changelist = client.get(reverse("admin:integration_hub_customer_changelist"))
    assert "import a file" in changelist.content.decode()
    upload = SimpleUploadedFile(
        "customers.csv", b"Action,customerId,email\nAdd,C1,a@example.com\nAdd,C2,nope\n"
    )
    response = client.post(reverse("admin:integration_hub_customer_import"), {"file": upload})
    body = response.content.decode()
    assert response.status_code == 200
    assert "1 applied, 1 rejected" in body
    assert "email: Enter a valid email address." in body
    assert list(Customer.objects.values_list("customer_id", flat=True)) == ["C1"]


def test_an_unreadable_upload_says_so_and_imports_nothing(admin_client_for, system_admin):
    client = admin_client_for(system_admin)
    upload = SimpleUploadedFile("orders.csv", b"\xff\xfe\x00garbage")
    response = client.post(reverse("admin:integration_hub_order_import"), {"file": upload})
    assert "The file could not be read" in response.content.decode()
    assert not Order.objects.exists()


def test_job_admins_cannot_import(admin_client_for, job_admin):
    client = admin_client_for(job_admin)
    assert client.get(reverse("admin:integration_hub_customer_import")).status_code == 403


def test_a_customer_saved_in_the_admin_goes_through_the_service_and_sends_its_signal(
    admin_client_for, system_config
):
    seen = []

    def receiver(sender, customer, **kwargs):
        seen.append((customer.customer_id, tuple(kwargs.get("changed_fields", ()))))

    signals.customer_created.connect(receiver)
    signals.customer_updated.connect(receiver)
    try:
        client = admin_client_for(system_config)
        data = {
            "subscriber": default_subscriber().pk,
            "customer_id": "C7",
            "first_name": "Grace",
            "notes-TOTAL_FORMS": "1",
            "notes-INITIAL_FORMS": "0",
            "notes-0-text": "met at the fair",
        }
        response = client.post(reverse("admin:integration_hub_customer_add"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        customer = Customer.objects.get(customer_id="C7")
        change = {
            **data,
            "first_name": "Grace H.",
            "signup_date": customer.signup_date.isoformat(),
            "notes-0-text": "",
        }
        change.pop("subscriber")
        change.pop("customer_id")
        client.post(reverse("admin:integration_hub_customer_change", args=[customer.pk]), change)
    finally:
        signals.customer_created.disconnect(receiver)
        signals.customer_updated.disconnect(receiver)
    assert seen == [("C7", ()), ("C7", ("first_name",))]
    assert list(customer.notes.values_list("text", flat=True)) == ["met at the fair"]


def test_the_merge_action_merges_the_selected_customers(admin_client_for, system_admin):
    subscriber = default_subscriber()
    a = customer_create(subscriber=subscriber, customer_id="A", first_name="Ann")
    b = customer_create(subscriber=subscriber, customer_id="B", last_name="Bee")
    client = admin_client_for(system_admin)
    client.post(
        reverse("admin:integration_hub_customer_changelist"),
        {"action": "merge_selected", "_selected_action": [a.pk, b.pk]},
    )
    merged = Customer.objects.get()
    assert (merged.first_name, merged.last_name) == ("Ann", "Bee")


def test_customer_list_search_and_filters(admin_client_for, system_config):
    customer_create(subscriber=default_subscriber(), customer_id="FINDME", email="x@example.com")
    customer_create(subscriber=default_subscriber(), customer_id="OTHER")
    client = admin_client_for(system_config)
    body = client.get(
        reverse("admin:integration_hub_customer_changelist"), {"q": "FINDME"}
    ).content.decode()
    assert "FINDME" in body
    assert "OTHER" not in body
