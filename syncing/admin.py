"""Inbound sync in the admin: read-only views of connections, sync jobs and identities (every
change goes through the services, the API or `manage.py identity`)."""

from django.contrib import admin

from .models import Connection, Notification, SyncJob, VerifiedIdentity


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VerifiedIdentity)
class VerifiedIdentityAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "method", "verified_at"]
    list_filter = ["kind", "method"]
    list_select_related = ["user"]


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "integration", "status", "auto_sync", "updated_at"]
    list_filter = ["status", "integration"]
    list_select_related = ["user", "integration"]


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "connection", "kind", "status", "step", "started_at", "finished_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["connection"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "kind", "invoice_id", "created_at", "delivered_at", "reported_at"]
    list_filter = ["kind", ("delivered_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["invoice_id", "user__username"]
