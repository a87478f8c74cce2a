import json

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from integration_hub.admin.base import ReadOnlyAdmin

from .models import (
    AccountingApp,
    AccountingCall,
    AccountingCompany,
    AccountingGrant,
    AccountingObject,
    ReceivedRequest,
    SandboxReceiver,
)


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


def _pretty(value) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)


@admin.register(AccountingApp)
class AccountingAppAdmin(ReadOnlyAdmin):
    """Apps registered with the sandbox's accounting systems (by sandbox_accounting_app_ensure);
    only a hash of each secret is kept, and it is not shown."""

    list_display = ("name", "system", "client_id", "created_at")
    list_filter = ("system",)
    fields = ("system", "name", "client_id", "created_at", "updated_at")
    readonly_fields = fields


@admin.register(AccountingGrant)
class AccountingGrantAdmin(ReadOnlyAdmin):
    """Consents given on the sandbox's authorize pages: which app reached which companies,
    and whether it was revoked (codes and tokens are kept only as hashes, never shown)."""

    list_display = ("pk", "app", "tenant_ids", "scope", "created_at", "revoked_at")
    list_filter = ("app__system",)
    list_select_related = ("app",)
    fields = (
        "app",
        "tenant_ids",
        "scope",
        "redirect_uri",
        "code_used_at",
        "revoked_at",
        "created_at",
    )
    readonly_fields = fields


@admin.register(AccountingCompany)
class AccountingCompanyAdmin(admin.ModelAdmin):
    """The sandbox's accounting companies. Make one throttle sooner (calls per minute before
    a 429) or, for QuickBooks, answer its Faults inside HTTP 200."""

    list_display = (
        "name",
        "system",
        "tenant_id",
        "rate_limit_per_minute",
        "fault_status",
        "object_count",
    )
    list_filter = ("system",)
    fields = (
        "system",
        "tenant_id",
        "name",
        "rate_limit_per_minute",
        "fault_status",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("system", "tenant_id", "name", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_object_count=Count("book_objects"))

    @admin.display(description="Objects", ordering="_object_count")
    def object_count(self, obj) -> int:
        return obj._object_count

    def has_add_permission(self, request) -> bool:
        return False  # created from accounting_data on first use

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccountingObject)
class AccountingObjectAdmin(ReadOnlyAdmin):
    """What the sandbox's books hold: each posted object, as it stands now, and the calls
    that created, updated or deleted it."""

    list_display = (
        "external_id",
        "object_type",
        "company",
        "version",
        "is_deleted",
        "created_at",
        "updated_at",
    )
    list_filter = ("company__system", "object_type", "is_deleted")
    list_select_related = ("company",)
    search_fields = ("external_id", "idempotency_id")
    date_hierarchy = "updated_at"
    fields = (
        "company",
        "object_type",
        "external_id",
        "version",
        "is_deleted",
        "idempotency_id",
        "body_shown",
        "calls_shown",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="Body")
    def body_shown(self, obj) -> str:
        return format_html("<pre>{}</pre>", _pretty(obj.body))

    @admin.display(description="Calls")
    def calls_shown(self, obj) -> str:
        calls = obj.calls.order_by("id").only(
            "id", "created_at", "method", "path", "response_status"
        )
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                '<li><a href="{}">{} {} {} → {}</a></li>',
                (
                    (
                        reverse("admin:sandbox_accountingcall_change", args=[call.pk]),
                        call.created_at.isoformat(timespec="seconds"),
                        call.method,
                        call.path,
                        call.response_status,
                    )
                    for call in calls
                ),
            ),
        )


@admin.register(AccountingCall)
class AccountingCallAdmin(ReadOnlyAdmin):
    """Every API call the sandbox's accounting systems received and what they answered
    (credential headers are not stored)."""

    list_display = (
        "created_at",
        "system",
        "company",
        "method",
        "path",
        "response_status",
        "is_replay",
    )
    list_filter = ("system", "response_status", "method", "is_replay")
    list_select_related = ("company",)
    search_fields = ("path", "idempotency_key")
    date_hierarchy = "created_at"
    fields = (
        "system",
        "company",
        "method",
        "path",
        "headers",
        "body_shown",
        "idempotency_key",
        "is_replay",
        "response_status",
        "response_headers",
        "response_shown",
        "accounting_object",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Body")
    def body_shown(self, obj) -> str:
        return format_html("<pre>{}</pre>", _pretty(obj.body))

    @admin.display(description="Response body")
    def response_shown(self, obj) -> str:
        return format_html("<pre>{}</pre>", _pretty(obj.response_body))


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
