"""Under /api/v1/: the user's identities, the mirror of their connections, live reads and
writes at the partner, Sync Account, and notifications."""

from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path

from .apis import identities, live, mirror, notifications, partner_users, sync_account

CONNECTION = rf"connections/(?P<connection_id>{ID})"
PARTNER_ID = r"[^/]+"

urlpatterns = [
    api_path(r"identities", identities.IdentityListApi.as_view(), name="identities"),
    api_path(
        r"identities/bankid",
        identities.BankIdStartApi.as_view(),
        name="identities-bankid-start",
    ),
    api_path(
        r"identities/bankid/collect",
        identities.BankIdCollectApi.as_view(),
        name="identities-bankid-collect",
    ),
    api_path(
        rf"{CONNECTION}/accounts",
        mirror.ConnectionAccountListApi.as_view(),
        name="connection-accounts",
    ),
    api_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/invoices",
        live.ConnectionInvoicesApi.as_view(),
        name="connection-invoices",
    ),
    api_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/invoices/"
        rf"(?P<invoice_id>{PARTNER_ID})/pdf",
        live.ConnectionInvoicePdfApi.as_view(),
        name="connection-invoice-pdf",
    ),
    api_path(
        rf"{CONNECTION}/accounts/(?P<account_id>{PARTNER_ID})/guests",
        partner_users.ConnectionGuestAddApi.as_view(),
        name="connection-guests",
    ),
    api_path(
        rf"{CONNECTION}/services/(?P<service_id>{PARTNER_ID})/measurements",
        live.ConnectionMeasurementsApi.as_view(),
        name="connection-measurements",
    ),
    api_path(
        rf"{CONNECTION}/services/(?P<service_id>{PARTNER_ID})/cost",
        live.ConnectionCostApi.as_view(),
        name="connection-cost",
    ),
    api_path(
        rf"{CONNECTION}/users/(?P<user_id>{PARTNER_ID})",
        partner_users.ConnectionUserUpdateApi.as_view(),
        name="connection-user",
    ),
    api_path(r"sync-account", sync_account.SyncAccountApi.as_view(), name="sync-account"),
    api_path(r"notifications", notifications.NotificationListApi.as_view(), name="notifications"),
    api_path(
        rf"notifications/(?P<notification_id>{ID})/read",
        notifications.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
