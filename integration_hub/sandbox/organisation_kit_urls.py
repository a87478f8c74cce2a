"""Routes of the Organisation Kit simulator (included under /sandbox/organisation-kit/)."""

from django.urls import re_path

from . import organisation_kit as kit

ID = r"[^/]+"
urlpatterns = [
    re_path(r"^accounts/search/?$", kit.accounts_search, name="kit-accounts-search"),
    re_path(rf"^accounts/(?P<account_id>{ID})/?$", kit.account_detail, name="kit-account"),
    re_path(rf"^accounts/(?P<account_id>{ID})/users/?$", kit.account_users, name="kit-users"),
    re_path(
        rf"^accounts/(?P<account_id>{ID})/locations/?$",
        kit.account_locations,
        name="kit-locations",
    ),
    re_path(
        rf"^accounts/(?P<account_id>{ID})/invoices/?$", kit.account_invoices, name="kit-invoices"
    ),
    re_path(
        rf"^accounts/(?P<account_id>{ID})/invoices/(?P<invoice_id>{ID})/url/?$",
        kit.invoice_url,
        name="kit-invoice-url",
    ),
    re_path(
        rf"^accounts/(?P<account_id>{ID})/invoices/(?P<invoice_id>{ID})/stream/?$",
        kit.invoice_stream,
        name="kit-invoice-stream",
    ),
    re_path(rf"^accounts/(?P<account_id>{ID})/events/?$", kit.event_report, name="kit-events"),
    re_path(
        rf"^services/(?P<service_id>{ID})/agreements/?$",
        kit.service_agreements,
        name="kit-agreements",
    ),
    re_path(
        rf"^services/(?P<service_id>{ID})/products/?$", kit.service_products, name="kit-products"
    ),
    re_path(
        rf"^measurements/(?P<measurement_id>{ID})/?$", kit.measurements, name="kit-measurements"
    ),
    re_path(rf"^costs/(?P<cost_id>{ID})/?$", kit.costs, name="kit-costs"),
    re_path(rf"^users/(?P<user_id>{ID})/?$", kit.user_update, name="kit-user"),
    re_path(r"^bankid/auth/?$", kit.bankid_start, name="kit-bankid-start"),
    re_path(r"^bankid/collect/?$", kit.bankid_collect, name="kit-bankid-collect"),
    re_path(r"^bankid/complete/?$", kit.bankid_complete, name="kit-bankid-complete"),
]
