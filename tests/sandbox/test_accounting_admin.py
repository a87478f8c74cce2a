"""What the sandbox's accounting systems recorded, shown read-only in the admin: an object
with the calls that created and updated it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from integration_hub.sandbox.models import AccountingCall, AccountingCompany, AccountingObject

from .conftest import SAGE_BUSINESS, bearer, post_json
from .test_accounting_sage import PATH, _payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(client, sage):
    """A Sage payment created, then updated after a modified order."""
    token = sage.connect(client)
    created = post_json(client, PATH, _payment(), **bearer(token), HTTP_X_BUSINESS=SAGE_BUSINESS)
    body = _payment(net="200.00", tax="16.00", total="216.00")
    post_json(
        client,
        f"{PATH}/{created.json()['id']}",
        body,
        method="put",
        **bearer(token),
        HTTP_X_BUSINESS=SAGE_BUSINESS,
    )
    client.logout()
    return AccountingObject.objects.get()


def test_an_object_shows_its_current_body_and_the_calls_that_made_it(client, make_user, recorded):
    client.force_login(make_user(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:sandbox_accountingobject_change", args=[recorded.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "&quot;total_amount&quot;: 216.0" in html
    assert "POST /sandbox/sage/v3.1/other_payments → 201" in html
    assert f"PUT /sandbox/sage/v3.1/other_payments/{recorded.external_id} → 200" in html
    assert 'name="_save"' not in html  # read-only
    assert recorded.version == 1
    assert Decimal(str(recorded.body["total_amount"])) == Decimal("216.00")


def test_calls_are_listed_read_only_without_credentials(client, make_user, recorded):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    call = AccountingCall.objects.order_by("id").last()

    listing = client.get(reverse("admin:sandbox_accountingcall_changelist"))
    grants = client.get(reverse("admin:sandbox_accountinggrant_changelist"))
    detail = client.get(reverse("admin:sandbox_accountingcall_change", args=[call.pk]))

    assert listing.status_code == 200
    assert grants.status_code == 200
    assert SAGE_BUSINESS in grants.content.decode()
    assert detail.status_code == 200
    assert "Bearer" not in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()


def test_a_company_can_be_set_to_throttle_sooner_in_the_admin(client, make_user, recorded):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    company = AccountingCompany.objects.get()

    response = client.post(
        reverse("admin:sandbox_accountingcompany_change", args=[company.pk]),
        {"rate_limit_per_minute": 3, "fault_status": 400},
    )

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.rate_limit_per_minute == 3
