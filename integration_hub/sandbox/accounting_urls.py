"""Routes of the sandbox's QuickBooks Online, Xero and Sage (included under /sandbox/); the
hub is configured with them through accounting_data.sandbox_accounting_urls."""

from django.urls import path

from . import accounting_data as data
from . import accounting_oauth as oauth
from . import accounting_quickbooks as quickbooks
from . import accounting_sage as sage
from . import accounting_xero as xero

QB = {"system": data.QUICKBOOKS}
XERO = {"system": data.XERO}
SAGE = {"system": data.SAGE}

urlpatterns = [
    path("quickbooks/oauth2/authorize", oauth.authorize, QB, name="quickbooks-authorize"),
    path("quickbooks/oauth2/token", oauth.token, QB, name="quickbooks-token"),
    path("quickbooks/oauth2/revoke", oauth.revoke, QB, name="quickbooks-revoke"),
    path(
        "quickbooks/v3/company/<str:realm_id>/journalentry",
        quickbooks.journal_entry,
        name="quickbooks-journalentry",
    ),
    path(
        "quickbooks/v3/company/<str:realm_id>/journalentry/<str:entry_id>",
        quickbooks.journal_entry_read,
        name="quickbooks-journalentry-read",
    ),
    path("xero/identity/connect/authorize", oauth.authorize, XERO, name="xero-authorize"),
    path("xero/identity/connect/token", oauth.token, XERO, name="xero-token"),
    path("xero/identity/connect/revocation", oauth.revoke, XERO, name="xero-revoke"),
    path("xero/connections", xero.connections, name="xero-connections"),
    path(
        "xero/api.xro/2.0/BankTransactions",
        xero.bank_transactions,
        name="xero-banktransactions",
    ),
    path("sage/oauth2/auth/central", oauth.authorize, SAGE, name="sage-authorize"),
    path("sage/oauth2/token", oauth.token, SAGE, name="sage-token"),
    path("sage/oauth2/revoke", oauth.revoke, SAGE, name="sage-revoke"),
    path("sage/v3.1/businesses", sage.businesses, name="sage-businesses"),
    path("sage/v3.1/other_payments", sage.other_payments, name="sage-other-payments"),
    path(
        "sage/v3.1/other_payments/<str:payment_id>",
        sage.other_payment,
        name="sage-other-payment",
    ),
]
