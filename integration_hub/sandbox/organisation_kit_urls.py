"""Routes of the Organisation Kit simulator (included under /sandbox/organisation-kit/)."""

from integration_hub.api.routes import api_path

from . import organisation_kit as kit

ACCOUNT = r"accounts/(?P<account_id>[^/]+)"
PARTNER_ID = r"[^/]+"
urlpatterns = [
    api_path(r"accounts/search", kit.accounts_search, name="kit-accounts-search"),
    api_path(rf"{ACCOUNT}", kit.account_detail, name="kit-account"),
    api_path(rf"{ACCOUNT}/users", kit.account_users, name="kit-users"),
    api_path(
        rf"{ACCOUNT}/locations",
        kit.account_locations,
        name="kit-locations",
    ),
    api_path(
        rf"{ACCOUNT}/invoices",
        kit.account_invoices,
        name="kit-invoices",
    ),
    api_path(
        rf"{ACCOUNT}/invoices/(?P<invoice_id>{PARTNER_ID})/url",
        kit.invoice_url,
        name="kit-invoice-url",
    ),
    api_path(
        rf"{ACCOUNT}/invoices/(?P<invoice_id>{PARTNER_ID})/stream",
        kit.invoice_stream,
        name="kit-invoice-stream",
    ),
    api_path(rf"{ACCOUNT}/events", kit.event_report, name="kit-events"),
    api_path(
        rf"services/(?P<service_id>{PARTNER_ID})/agreements",
        kit.service_agreements,
        name="kit-agreements",
    ),
    api_path(
        rf"services/(?P<service_id>{PARTNER_ID})/products",
        kit.service_products,
        name="kit-products",
    ),
    api_path(
        rf"measurements/(?P<measurement_id>{PARTNER_ID})", kit.measurements, name="kit-measurements"
    ),
    api_path(rf"costs/(?P<cost_id>{PARTNER_ID})", kit.costs, name="kit-costs"),
    api_path(rf"users/(?P<user_id>{PARTNER_ID})", kit.user_update, name="kit-user"),
    api_path(r"bankid/auth", kit.bankid_start, name="kit-bankid-start"),
    api_path(r"bankid/collect", kit.bankid_collect, name="kit-bankid-collect"),
    api_path(r"bankid/complete", kit.bankid_complete, name="kit-bankid-complete"),
]
