from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integration_hub.models import Order
from integration_hub.selectors import default_subscriber
from integration_hub.services.orders import ItemInput, PaymentInput, order_post
from tests.factories import AccountingIntegrationFactory, SubscriberFactory

BOOKS_URL = "https://books.example.com/api/sales"
FULL_MAPS = [
    ("REVENUE_CATEGORY", "Classes", "4000"),
    ("REVENUE_CATEGORY", "Retail", "4100"),
    ("PAYMENT_METHOD", "VISA", "1200"),
    ("PAYMENT_METHOD", "CASH", "1000"),
    ("TAX_RATE", "0.0800", "TAX8"),
    ("TAX_RATE", "0.0000", "EXEMPT"),
]


@pytest.fixture
def accounting_integration(db):
    """GENERIC, per order, with maps for Classes/Retail, VISA/CASH and both tax rates."""
    accounting_integration = AccountingIntegrationFactory()
    for kind, source, target in FULL_MAPS:
        accounting_integration.maps.create(kind=kind, source=source, target=target)
    return accounting_integration


@pytest.fixture
def post_order(db):
    """post_order("T1", at=..., items=[("Classes", "0.0800", "1", "20.00")],
    payments=[("VISA", "21.60")]) → an order whose modification time is `at`.

    A transactional test flushes the migrations' default subscriber: one is made again."""
    if default_subscriber() is None:
        SubscriberFactory(name="Default")
    return _post_order


def _post_order(
    key: str,
    *,
    at: datetime | None = None,
    business_date: date = date(2026, 11, 20),
    items=(("Classes", "0.0800", "1", "20.00"),),
    payments=(("VISA", "21.60"),),
    subscriber=None,
) -> Order:
    order = order_post(
        subscriber=subscriber or default_subscriber(),
        retail_transaction_id=key,
        business_date=business_date,
        currency="USD",
        items=[
            ItemInput(
                revenue_category=category,
                tax_rate=Decimal(rate),
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
            )
            for category, rate, quantity, price in items
        ],
        payments=[PaymentInput(payment_method=m, amount=Decimal(a)) for m, a in payments],
    )
    if at is not None:
        Order.objects.filter(pk=order.pk).update(updated_at=at)
        order.updated_at = at
    return order


def minutes_ago(n: float) -> datetime:
    return timezone.now() - timedelta(minutes=n)


REAL_BASE_URLS = {
    "QUICKBOOKS_ONLINE": "https://quickbooks.api.intuit.com",
    "XERO": "https://api.xero.com",
    "SAGE": "https://api.accounting.sage.com",
}


def connected_system(integration_type: str):
    """A QuickBooks, Xero or Sage accounting integration of the default subscriber at the
    real system's base URL, with FULL_MAPS, its app's credential, and connected (a grant
    and a tenant, as Connect stores them)."""
    from integration_hub.models import Integration
    from integration_hub.services.credentials import credential_set
    from tests.factories import AccountingIntegrationFactory, IntegrationFactory, connected

    key_name = f"{integration_type}-app"
    credential_set(key_name=key_name, client_id="hub-app", client_secret="hub-app-secret")
    app = IntegrationFactory(
        kind=Integration.Kind.ACCOUNTING,
        base_url=REAL_BASE_URLS[integration_type],
        auth_type=Integration.AuthType.OAUTH2_AUTHORIZATION_CODE,
        credential_key=key_name,
    )
    accounting_integration = AccountingIntegrationFactory(
        integration_type=integration_type, integration=app
    )
    for kind, source, target in FULL_MAPS:
        accounting_integration.maps.create(kind=kind, source=source, target=target)
    return connected(accounting_integration)
