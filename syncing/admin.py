"""Inbound sync in the admin: read-only views of identities, connections, sync jobs, events,
the mirrored accounts and notifications; changes go through the services (the actions here,
the API, the web UI or `manage.py identity`)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from integration_hub import roles
from integration_hub.admin import ReadOnlyAdmin, ReadOnlyInline
from integration_hub.models import Integration
from integration_hub.services.errors import IntegrationDisabled

from .models import (
    Account,
    Connection,
    Event,
    IdentityProvider,
    IdentityVerification,
    Notification,
    SyncJob,
    VerifiedIdentity,
)
from .selectors import user_may_sync_every_connection
from .services.identity_providers import (
    discovery_url_clean,
    identity_provider_create,
    identity_provider_delete,
    identity_provider_update,
)
from .services.notifications import notifications_deliver
from .services.sync_jobs import sync_request


class IdentityVerificationInline(ReadOnlyInline):
    model = IdentityVerification
    fields = ["method", "integration", "provider", "verified_at"]
    readonly_fields = fields


@admin.register(VerifiedIdentity)
class VerifiedIdentityAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "verified_at"]
    list_filter = ["kind", "verifications__method"]
    search_fields = ["user__username", "value"]
    list_select_related = ["user"]
    inlines = [IdentityVerificationInline]


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


class IdentityProviderAdminForm(forms.ModelForm):
    """The client secret is typed in, never shown back: empty keeps the stored one."""

    discovery_url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        label="Discovery URL",
        help_text="The provider's /.well-known/openid-configuration address.",
    )
    client_id = forms.CharField(max_length=500, label="Client ID")
    client_secret = forms.CharField(
        required=False,
        strip=False,
        label="Client secret",
        widget=forms.PasswordInput(render_value=False),
        help_text="Saved with the client ID. Leave empty to keep the stored secret.",
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "name",
            "discovery_url",
            "client_id",
            "client_secret",
            "is_trusted_for_all",
            "integrations",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A viewer without change permission gets the form without its model fields (the
        # admin shows them read-only).
        if "integrations" in self.fields:
            self.fields["integrations"].queryset = Integration.objects.filter(
                kind=Integration.Kind.ORGANISATION_KIT
            ).order_by("name")
        if self.instance.pk:
            self.fields["client_id"].initial = self.instance.credential.client_id

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["discovery_url"] = discovery_url_clean(cleaned.get("discovery_url", ""))
        except ValidationError as exc:
            self.add_error("discovery_url", exc.message_dict["discovery_url"])
        secret = cleaned.get("client_secret")
        client_id = (cleaned.get("client_id") or "").strip()
        stored_id = self.instance.credential.client_id if self.instance.pk else None
        if not secret and client_id != stored_id:
            self.add_error(
                "client_secret",
                "The client ID is saved with its secret: enter the secret too.",
            )
        return cleaned


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    """Every field decides where the client secret goes (DESIGN.md "Roles"): only System Admin
    adds, changes or deletes a provider."""

    form = IdentityProviderAdminForm
    list_display = ["name", "discovery_url", "trusted_for"]
    search_fields = ["name"]

    @admin.display(description="Trusted for")
    def trusted_for(self, provider):
        if provider.is_trusted_for_all:
            return "Every organisation"
        return ", ".join(i.name for i in provider.integrations.all()) or "No organisation"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("integrations")

    def has_view_permission(self, request, obj=None):
        return roles.user_has_admin_role(request.user)

    def has_add_permission(self, request):
        return roles.user_may_save_secrets(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.user_may_save_secrets(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.user_may_save_secrets(request.user)

    def get_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return super().get_fields(request, obj)
        return ["name", "discovery_url", "is_trusted_for_all", "integrations"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        arguments = {
            "name": data["name"],
            "discovery_url": data["discovery_url"],
            "client_id": data["client_id"],
            "integrations": list(data["integrations"]),
            "acting_user": request.user,
        }
        if change:
            saved = identity_provider_update(
                provider=IdentityProvider.objects.get(pk=obj.pk),
                client_secret=data["client_secret"] or None,
                is_trusted_for_all=data["is_trusted_for_all"],
                **arguments,
            )
        else:
            saved = identity_provider_create(
                client_secret=data["client_secret"],
                is_trusted_for_all=data["is_trusted_for_all"],
                **arguments,
            )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        # The service has set the integrations.
        pass

    def delete_model(self, request, obj):
        identity_provider_delete(provider=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for provider in queryset:
            self.delete_model(request, provider)
