from django.contrib import admin
from django.db.models import Count

from .models import ReceivedRequest, SandboxReceiver


@admin.register(SandboxReceiver)
class SandboxReceiverAdmin(admin.ModelAdmin):
    """Make a receiver fail on purpose: set the status (and Retry-After) it answers."""

    list_display = ("slug", "respond_status", "retry_after", "received_count", "updated_at")
    search_fields = ("slug",)
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_received_count=Count("received_requests"))

    @admin.display(description="Received", ordering="_received_count")
    def received_count(self, obj) -> int:
        return obj._received_count


@admin.register(ReceivedRequest)
class ReceivedRequestAdmin(admin.ModelAdmin):
    """What the receivers got: a record, read-only."""

    list_display = ("created_at", "receiver", "method", "response_status", "body_truncated")
    list_filter = ("receiver", "method", "response_status")
    list_select_related = ("receiver",)
    date_hierarchy = "created_at"
    fields = (
        "receiver",
        "method",
        "response_status",
        "headers",
        "body",
        "body_truncated",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _unregister_token_admins() -> None:
    """django-oauth-toolkit's admin lists access, refresh and ID tokens and grants in clear
    text. The hub's secrets are write-only everywhere, so those pages are not offered."""
    from oauth2_provider.models import (
        get_access_token_model,
        get_grant_model,
        get_id_token_model,
        get_refresh_token_model,
    )

    for model in (
        get_access_token_model(),
        get_refresh_token_model(),
        get_id_token_model(),
        get_grant_model(),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_token_admins()
