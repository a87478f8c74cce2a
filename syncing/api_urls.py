"""Under /api/v1/: the user's identities, the mirror of their connections, live reads and
writes at the partner, Sync Account, and notifications."""

from django.urls import re_path

from . import apis, identity_apis, live_apis

CONNECTION = r"^connections/(?P<connection_id>[0-9]+)"
PARTNER_ID = r"[^/]+"

urlpatterns = [
    re_path(r"^identities/?$", identity_apis.IdentityListApi.as_view(), name="identities"),
    re_path(
        r"^identities/bankid/?$",
        identity_apis.BankIdStartApi.as_view(),
        name="identities-bankid-start",
    ),
    re_path(
        r"^identities/bankid/collect/?$",
        identity_apis.BankIdCollectApi.as_view(),
        name="identities-bankid-collect",
    ),
    re_path(
        rf"{CONNECTION}/accounts/?$",
        apis.ConnectionAccountListApi.as_view(),
        name="connection-accounts",
    ),
    re_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/invoices/?$",
        live_apis.ConnectionInvoicesApi.as_view(),
        name="connection-invoices",
    ),
    re_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/invoices/"
        rf"(?P<invoice_id>{PARTNER_ID})/pdf/?$",
        live_apis.ConnectionInvoicePdfApi.as_view(),
        name="connection-invoice-pdf",
    ),
    re_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/guests/?$",
        live_apis.ConnectionGuestAddApi.as_view(),
        name="connection-guests",
    ),
    re_path(
        rf"{CONNECTION}/services/(?P<service_id>{PARTNER_ID})/measurements/?$",
        live_apis.ConnectionMeasurementsApi.as_view(),
        name="connection-measurements",
    ),
    re_path(
        rf"{CONNECTION}/services/(?P<service_id>{PARTNER_ID})/cost/?$",
        live_apis.ConnectionCostApi.as_view(),
        name="connection-cost",
    ),
    re_path(
        rf"{CONNECTION}/users/(?P<user_id>{PARTNER_ID})/?$",
        live_apis.ConnectionUserUpdateApi.as_view(),
        name="connection-user",
    ),
    re_path(r"^sync-account/?$", live_apis.SyncAccountApi.as_view(), name="sync-account"),
    re_path(r"^notifications/?$", live_apis.NotificationListApi.as_view(), name="notifications"),
    re_path(
        r"^notifications/(?P<notification_id>[0-9]+)/read/?$",
        live_apis.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
