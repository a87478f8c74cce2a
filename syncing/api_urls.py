"""Under /api/v1/: the user's identities, the mirror of their connections, live reads and
writes at the partner, Sync Account, and notifications."""

from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path

from . import apis, identity_apis, live_apis

CONNECTION = rf"connections/(?P<connection_id>{ID})"
PARTNER_ID = r"[^/]+"

urlpatterns = [
    api_path(r"identities", identity_apis.IdentityListApi.as_view(), name="identities"),
    api_path(
        r"identities/bankid",
        identity_apis.BankIdStartApi.as_view(),
        name="identities-bankid-start",
    ),
    api_path(
        r"identities/bankid/collect",
        identity_apis.BankIdCollectApi.as_view(),
        name="identities-bankid-collect",
    ),
    api_path(
        rf"{CONNECTION}/accounts",
        apis.ConnectionAccountListApi.as_view(),
        name="connection-accounts",
    ),
    api_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/invoices",
        live_apis.ConnectionInvoicesApi.as_view(),
        name="connection-invoices",
    ),
    api_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/invoices/"
        rf"(?P<invoice_id>{PARTNER_ID})/pdf",
        live_apis.ConnectionInvoicePdfApi.as_view(),
        name="connection-invoice-pdf",
    ),
    api_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/guests",
        live_apis.ConnectionGuestAddApi.as_view(),
        name="connection-guests",
    ),
    api_path(
        rf"{CONNECTION}/services/(?P<service_id>{PARTNER_ID})/measurements",
        live_apis.ConnectionMeasurementsApi.as_view(),
        name="connection-measurements",
    ),
    api_path(
        rf"{CONNECTION}/services/(?P<service_id>{PARTNER_ID})/cost",
        live_apis.ConnectionCostApi.as_view(),
        name="connection-cost",
    ),
    api_path(
        rf"{CONNECTION}/users/(?P<user_id>{PARTNER_ID})",
        live_apis.ConnectionUserUpdateApi.as_view(),
        name="connection-user",
    ),
    api_path(r"sync-account", live_apis.SyncAccountApi.as_view(), name="sync-account"),
    api_path(r"notifications", live_apis.NotificationListApi.as_view(), name="notifications"),
    api_path(
        rf"notifications/(?P<notification_id>{ID})/read",
        live_apis.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
