from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404

from integration_hub import roles
from integration_hub.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import AccountingIntegration, AccountingMap, Packet, SyncRecord
from .selectors import accounting_integration_owned
from .services.integrations import accounting_schedules_ensure, maps_validate
from .services.sync import packets_resend


class AccountingMapFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            maps_validate(rows)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class AccountingMapInline(admin.TabularInline):
    model = AccountingMap
    formset = AccountingMapFormSet
    extra = 1
    fields = ["kind", "source", "target"]


@admin.register(AccountingIntegration)
class AccountingIntegrationAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "integration_type", "integration", "summarize_data", "enabled"]
    list_filter = ["integration_type", "enabled", "summarize_data"]
    list_select_related = ["subscriber", "integration"]
    inlines = [AccountingMapInline]

    def get_readonly_fields(self, request, obj=None):
        # The integration decides where the accounting system's credential goes, and the
        # subscriber whose sales go there.
        if roles.user_may_save_secrets(request.user):
            return ()
        return ("subscriber", "integration")

    def has_add_permission(self, request):
        return roles.user_may_save_secrets(request.user) and super().has_add_permission(request)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        transaction.on_commit(accounting_schedules_ensure)


class PacketInline(ReadOnlyInline):
    model = Packet
    fields = ["key", "state", "response_code", "error", "attempts", "sent_at", "idempotency_key"]
    readonly_fields = fields


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyAdmin):
    """Read-only: records are written by the Sync job only (every field shows read-only)."""

    list_display = [
        "id",
        "accounting_integration",
        "status",
        "requested_at",
        "finished_at",
        "order_count",
        "packets_sent",
        "packets_failed",
    ]
    list_filter = [
        "status",
        "accounting_integration__integration_type",
        ("requested_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=id", "accounting_integration__subscriber__name", "failure_reason"]
    list_select_related = ["accounting_integration__subscriber"]
    date_hierarchy = "requested_at"
    inlines = [PacketInline]
    actions = ["resend_failed_packets"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            # The list's and the page's integration (with its subscriber) and requester in
            # the same query: a page runs a fixed number of queries.
            .select_related("accounting_integration__subscriber", "requested_by")
            .annotate(
                sent_count=Count("packets", filter=Q(packets__state=Packet.State.SENT)),
                failed_count=Count("packets", filter=Q(packets__state=Packet.State.FAILED)),
            )
        )

    @admin.display(description="Sent", ordering="sent_count")
    def packets_sent(self, record):
        return record.sent_count

    @admin.display(description="Failed", ordering="failed_count")
    def packets_failed(self, record):
        return record.failed_count

    def has_resend_permission(self, request) -> bool:
        # Resend in the API: the Owners of the record's subscriber (and superusers).
        return roles.user_has_role(request.user, roles.OWNER)

    @admin.action(
        description="Resend failed packets (with the current maps)", permissions=["resend"]
    )
    def resend_failed_packets(self, request, queryset):
        total = 0
        for record in queryset.select_related("accounting_integration"):
            try:
                accounting_integration_owned(
                    user=request.user, accounting_integration_id=record.accounting_integration_id
                )
            except (PermissionDenied, Http404):
                self.message_user(
                    request,
                    f"Record {record.pk}: only the Owners of its subscriber may resend it.",
                    messages.ERROR,
                )
                continue
            try:
                total += packets_resend(sync_record=record, acting_user=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
        self.message_user(request, f"{total} packet(s) queued for resending.")
