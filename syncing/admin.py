"""Inbound sync in the admin: read-only views of identities, connections, sync jobs, events,
the mirrored accounts and notifications; changes go through the services (the actions here,
the API, the web UI or `manage.py identity`)."""

from django.contrib import admin, messages

from integration_hub.admin import ReadOnlyAdmin
from integration_hub.services.errors import IntegrationDisabled

from .models import Account, Connection, Event, Notification, SyncJob, VerifiedIdentity
from .selectors import user_may_sync_every_connection
from .services.notifications import notifications_deliver
from .services.sync_jobs import sync_request


@admin.register(VerifiedIdentity)
class VerifiedIdentityAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "method", "verified_at"]
    list_filter = ["kind", "method"]
    search_fields = ["user__username", "value"]
    list_select_related = ["user"]


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "integration", "status", "auto_sync", "updated_at"]
    list_filter = ["status", "integration", "auto_sync"]
    search_fields = ["=id", "user__username", "integration__name"]
    list_select_related = ["user", "integration"]
    actions = ["sync_now"]

    def has_sync_permission(self, request) -> bool:
        # What Sync Account needs in the API for any user's connections.
        return user_may_sync_every_connection(request.user)

    @admin.action(description="Sync the selected connections now (ALL)", permissions=["sync"])
    def sync_now(self, request, queryset):
        started, active, refused = 0, 0, []
        for connection in queryset.select_related("integration"):
            try:
                job_started = sync_request(
                    connection=connection, kind=SyncJob.Kind.ALL, acting_user=request.user
                )[1]
            except IntegrationDisabled as error:  # never called: said, not queued
                refused.append(f"connection {connection.pk}: {error}")
                continue
            started, active = started + job_started, active + (not job_started)
        messages.success(
            request, f"{started} sync(s) queued; {active} were already queued or running."
        )
        if refused:
            messages.error(request, "Not synced: " + "; ".join(refused))


@admin.register(SyncJob)
class SyncJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "connection", "kind", "status", "step", "started_at", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["=id", "=connection__id", "connection__user__username", "error"]
    list_select_related = ["connection__user", "connection__integration"]
    date_hierarchy = "created_at"


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "queue", "event_type", "resource_type", "created_at"]
    list_filter = ["event_type", "resource_type"]
    search_fields = ["queue__user__username", "event_type"]
    list_select_related = ["queue__user"]
    date_hierarchy = "created_at"


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["partner_id", "name", "customer_id", "role", "is_present", "connection"]
    list_filter = ["role", "is_present", "type"]
    search_fields = ["partner_id", "customer_id", "name", "connection__user__username"]
    list_select_related = ["connection__user", "connection__integration"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "kind", "invoice_id", "created_at", "delivered_at", "reported_at"]
    list_filter = [
        "kind",
        ("delivered_at", admin.EmptyFieldListFilter),
        ("reported_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["user"]
    search_fields = ["invoice_id", "user__username", "delivery_error", "report_error"]
    date_hierarchy = "created_at"
    actions = ["deliver_now"]

    def has_deliver_permission(self, request) -> bool:
        return request.user.has_perm("integration_hub.run_jobs")  # running a job now

    @admin.action(description="Deliver the undelivered ones now", permissions=["deliver"])
    def deliver_now(self, request, queryset):
        connection_ids = set(queryset.values_list("connection_id", flat=True))
        claimed = sum(notifications_deliver(connection_id=pk) for pk in connection_ids)
        messages.info(request, f"{claimed} notification(s) sent or tried again.")
