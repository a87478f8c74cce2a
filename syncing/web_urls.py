"""The web pages of inbound sync (templates/syncing/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("connections/new/", views.connection_new, name="connection-new"),
    path("connections/bankid/simulate/", views.bankid_simulate, name="bankid-simulate"),
    path("connections/sync/", views.connections_sync_all, name="connections-sync-all"),
    path("connections/<int:connection_id>/", views.connection_detail, name="connection-detail"),
    path("connections/<int:connection_id>/sync/", views.connection_sync, name="connection-sync"),
    path(
        "connections/<int:connection_id>/accounts/<str:account_id>/invoices/",
        views.account_invoices,
        name="account-invoices",
    ),
    path(
        "connections/<int:connection_id>/accounts/<str:account_id>/guests/",
        views.guest_add,
        name="guest-add",
    ),
    path(
        "connections/<int:connection_id>/services/<str:service_id>/",
        views.service_detail,
        name="service-detail",
    ),
    path(
        "connections/<int:connection_id>/users/<str:user_id>/",
        views.user_update,
        name="user-update",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification-read",
    ),
]
