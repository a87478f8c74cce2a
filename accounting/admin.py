import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404

from integration_hub import roles
from integration_hub.admin import ReadOnlyAdmin, ReadOnlyInline
from integration_hub.models import Integration

from .models import AccountingIntegration, AccountingMap, ExportedKey, Packet, SyncRecord
from .selectors import accounting_integration_owned
from .services.integrations import (
    accounting_integration_create,
    accounting_integration_delete,
    accounting_integration_update,
    accounting_integration_validate,
    accounting_schedules_ensure,
    maps_validate,
)
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


class AccountingIntegrationForm(forms.ModelForm):
    def clean(self):
        """The services' checks, on what the integration would be (fields this user may not
        change keep theirs), so that they are form errors here and not failures on save."""
        cleaned = super().clean()
        candidate = copy.copy(self.instance)
        for name in _SAVED:
            if name in cleaned:
                setattr(candidate, name, cleaned[name])
        if candidate.subscriber_id and candidate.integration_id:
            try:
                accounting_integration_validate(candidate)
            except ValidationError as exc:
                raise ValidationError(exc.messages) from None
        return cleaned


@admin.register(AccountingIntegration)
class AccountingIntegrationAdmin(admin.ModelAdmin):
    form = AccountingIntegrationForm
    list_display = [
        "subscriber",
        "integration_type",
        "integration",
        "summarize_data",
        "enabled",
        "connected",
    ]
    list_filter = ["integration_type", "enabled", "summarize_data"]
    list_select_related = ["subscriber", "integration"]
    inlines = [AccountingMapInline]
    # The grant (the Owner's tokens) is never shown; only whether there is one.
    exclude = ["grant"]

    @admin.display(boolean=True, description="Connected")
    def connected(self, obj):
        return obj.is_connected

    def get_readonly_fields(self, request, obj=None):
        # The integration decides where the accounting system's credential goes, the
        # subscriber whose sales go there, and the tenant whose books receive them. The
        # tenant's name and the connection come from Connect.
        if roles.user_may_save_secrets(request.user):
            return ("tenant_name", "connected")
        return ("subscriber", "integration", "tenant_id", "tenant_name", "connected")

    def has_add_permission(self, request):
        return roles.user_may_save_secrets(request.user) and super().has_add_permission(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "integration":
            kwargs["queryset"] = Integration.objects.filter(kind=Integration.Kind.ACCOUNTING)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Through the services, like the API: the same guard on where a secret goes, and the
        audit row. The maps are the inline's, saved after this."""
        fields = {name: form.cleaned_data[name] for name in _SAVED if name in form.cleaned_data}
        if change:
            saved = accounting_integration_update(
                accounting_integration=AccountingIntegration.objects.get(pk=obj.pk),
                acting_user=request.user,
                **fields,
            )
        else:
            saved = accounting_integration_create(acting_user=request.user, **fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        accounting_integration_delete(accounting_integration=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for accounting_integration in queryset:
            accounting_integration_delete(
                accounting_integration=accounting_integration, acting_user=request.user
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        transaction.on_commit(accounting_schedules_ensure)


_SAVED = (
    "subscriber",
    "integration_type",
    "integration",
    "summarize_data",
    "enabled",
    "tenant_id",
)


class PacketInline(ReadOnlyInline):
    model = Packet
    fields = [
        "key",
        "state",
        "response_code",
        "external_id",
        "error",
        "attempts",
        "sent_at",
        "idempotency_key",
    ]
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


@admin.register(ExportedKey)
class ExportedKeyAdmin(ReadOnlyAdmin):
    """What each accounting system holds for each packet key (read-only: written by
    delivery): the packet carrying the key's current totals and the objects' ids."""

    list_display = ["key", "accounting_integration", "tenant_id", "held", "latest_packet_id"]
    list_filter = ["accounting_integration__integration_type"]
    search_fields = ["key", "accounting_integration__subscriber__name"]
    list_select_related = ["accounting_integration__subscriber"]
    fields = [
        "accounting_integration",
        "key",
        "tenant_id",
        "held",
        "latest_packet",
        "claimed_until",
        "created_at",
        "updated_at",
    ]
