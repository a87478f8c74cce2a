"""The web pages of inbound sync (templates/syncing/)."""

from django.urls import path

from .views import connections, identities, live, notifications

urlpatterns = [
    path("identities/", identities.identities, name="identity-list"),
    path("identities/verify/email/", identities.email_verify, name="email-verify"),
    path(
        "identities/verify/email/callback",
        identities.email_verify_callback,
        name="email-verify-callback",
    ),
    path("connections/new/", connections.connection_new, name="connection-new"),
    path("connections/bankid/simulate/", connections.bankid_simulate, name="bankid-simulate"),
    path("connections/sync/", connections.connections_sync_all, name="connections-sync-all"),
    path(
        "connections/<int:connection_id>/", connections.connection_detail, name="connection-detail"
    ),
    path(
        "connections/<int:connection_id>/sync/", connections.connection_sync, name="connection-sync"
    ),
    path(
        "connections/<int:connection_id>/accounts/<str:account_id>/invoices/",
        live.account_invoices,
        name="account-invoices",
    ),
    path(
        "connections/<int:connection_id>/accounts/<str:account_id>/guests/",
        live.guest_add,
        name="guest-add",
    ),
    path(
        "connections/<int:connection_id>/services/<str:service_id>/",
        live.service_detail,
        name="service-detail",
    ),
    path(
        "connections/<int:connection_id>/users/<str:user_id>/",
        live.user_update,
        name="user-update",
    ),
    path("notifications/", notifications.notifications, name="notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        notifications.notification_read,
        name="notification-read",
    ),
]
