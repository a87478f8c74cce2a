"""The accounting demo (DESIGN.md, "Running": make run loads it): an ACCOUNTING integration
delivering to the sandbox receiver `accounting`, and a GENERIC accounting integration of the
default subscriber with maps over every value of the demo orders, so that pressing Sync on
the dashboard shows packets arriving; and one accounting integration of each real system the
sandbox plays (QuickBooks Online, Xero, Sage) with maps over the same values into that
system's chart of accounts, not connected yet: its Owner presses Connect on its page."""

from django.db import transaction

from integration_hub.models import Integration
from integration_hub.selectors import default_subscriber

from .models import AccountingIntegration
from .services.integrations import accounting_integration_create, accounting_integration_update

INTEGRATION_NAME = "Sandbox accounting"
RECEIVER_SLUG = "accounting"
DEMO_MAPS = [
    {"kind": "REVENUE_CATEGORY", "source": "Classes", "target": "4000"},
    {"kind": "REVENUE_CATEGORY", "source": "Retail", "target": "4100"},
    {"kind": "REVENUE_CATEGORY", "source": "Memberships", "target": "4200"},
    {"kind": "REVENUE_CATEGORY", "source": "Gift cards", "target": "2400"},
    {"kind": "PAYMENT_METHOD", "source": "VISA", "target": "1200"},
    {"kind": "PAYMENT_METHOD", "source": "MASTERCARD", "target": "1210"},
    {"kind": "PAYMENT_METHOD", "source": "AMEX", "target": "1220"},
    {"kind": "PAYMENT_METHOD", "source": "CASH", "target": "1000"},
    {"kind": "TAX_RATE", "source": "0.0800", "target": "TAX8"},
    {"kind": "TAX_RATE", "source": "0.0000", "target": "EXEMPT"},
]


@transaction.atomic
def accounting_systems_demo_setup(*, base_url: str) -> list[AccountingIntegration]:
    """Idempotent; needs the sandbox. Maps are written once (an admin's edits stay)."""
    from integration_hub.sandbox import accounting_data
    from integration_hub.sandbox.services import sandbox_accounting_integration_ensure

    subscriber = default_subscriber()
    made = []
    for system in accounting_data.SYSTEMS:
        integration = sandbox_accounting_integration_ensure(system=system, site=base_url)
        existing = AccountingIntegration.objects.filter(
            subscriber=subscriber, integration_type=system
        ).first()
        if existing is None:
            existing = accounting_integration_create(
                subscriber=subscriber,
                integration_type=system,
                integration=integration,
                summarize_data=True,
                enabled=True,
                maps=accounting_data.DEMO_MAPS[system],
            )
        elif existing.integration_id != integration.pk:
            existing = accounting_integration_update(
                accounting_integration=existing, integration=integration
            )
        made.append(existing)
    return made


@transaction.atomic
def accounting_demo_setup(*, base_url: str = "http://127.0.0.1:8000") -> AccountingIntegration:
    """Idempotent; needs the sandbox (SANDBOX_ENABLED)."""
    from integration_hub.sandbox.services import sandbox_integration_ensure

    integration = sandbox_integration_ensure(
        name=INTEGRATION_NAME,
        kind=Integration.Kind.ACCOUNTING,
        slug=RECEIVER_SLUG,
        application_name=INTEGRATION_NAME,
        credential_key="sandbox-accounting",
        base_url=base_url,
    )
    subscriber = default_subscriber()
    existing = AccountingIntegration.objects.filter(
        subscriber=subscriber, integration_type=AccountingIntegration.IntegrationType.GENERIC
    ).first()
    if existing is None:
        return accounting_integration_create(
            subscriber=subscriber,
            integration_type=AccountingIntegration.IntegrationType.GENERIC,
            integration=integration,
            summarize_data=True,
            enabled=True,
            maps=DEMO_MAPS,
        )
    if existing.integration_id != integration.pk:
        existing = accounting_integration_update(
            accounting_integration=existing, integration=integration
        )
    return existing
