"""Integrations and the credential store in the admin. Thin: forms validate through the
services, saves call them.

Secrets are write-only: the credential form has password inputs that never render a value,
list pages show only whether a secret is set, and nobody but System Admin may save one.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models

from integration_hub import roles
from integration_hub.admin.base import add_service_errors
from integration_hub.models import CREDENTIAL_SUMMARY_FIELDS, Credential, Integration
from integration_hub.services.credentials import (
    credential_delete,
    credential_input_validate,
    credential_set,
)
from integration_hub.services.integrations import (
    INTEGRATION_FIELDS,
    SECRET_ROUTING_FIELDS,
    integration_create,
    integration_delete,
    integration_update,
    integration_validate,
)


def _https_by_default(field, **kwargs):
    """A URL typed without a scheme is https:// (Django 6's default, chosen now)."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class IntegrationAdminForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = list(INTEGRATION_FIELDS)
        formfield_callback = _https_by_default

    def clean(self):
        cleaned = super().clean()
        # What the integration would be: the fields this user may not change keep theirs.
        values = {name: getattr(self.instance, name) for name in INTEGRATION_FIELDS}
        values.update((k, v) for k, v in cleaned.items() if k in INTEGRATION_FIELDS)
        candidate = Integration(**values)
        try:
            integration_validate(candidate)
        except ValidationError as exc:
            add_service_errors(self, exc, {})
        return cleaned


def _integration_fields() -> set[str]:
    return {f.name for f in Integration._meta.concrete_fields if f.editable and f.name != "id"}


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationAdminForm
    list_display = ("name", "kind", "base_url", "auth_type", "credential_key", "enabled")
    list_filter = ("kind", "auth_type", "enabled")
    search_fields = ("name", "base_url")
    raw_id_fields = ("service_user",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # the change form

    def get_readonly_fields(self, request, obj=None):
        if roles.user_may_save_secrets(request.user):
            return ()
        return SECRET_ROUTING_FIELDS

    def has_add_permission(self, request):
        # A new integration needs a baseUrl, and only System Admin decides where a secret goes.
        return roles.user_may_save_secrets(request.user) and super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in _integration_fields()
            if name in form.cleaned_data
        }
        if change:
            integration = Integration.objects.get(pk=obj.pk)
            saved = integration_update(integration=integration, acting_user=request.user, **fields)
        else:
            saved = integration_create(acting_user=request.user, **fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        integration_delete(integration=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            integration_delete(integration=integration, acting_user=request.user)


def _secret_input(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class CredentialAdminForm(forms.ModelForm):
    """Secrets are typed in, never shown back: an empty secret box keeps what is stored."""

    new_client_secret = _secret_input(
        "Client secret", "Saved only together with the Client ID (enter both)."
    )
    new_api_key = _secret_input("API key", "Leave empty to keep the stored key.")
    new_refresh_token = _secret_input("Refresh token", "Leave empty to keep the stored token.")

    class Meta:
        model = Credential
        fields = ["map_name", "key_name", "client_id"]

    FIELD_NAMES = {
        "mapName": "map_name",
        "keyName": "key_name",
        "clientId": "client_id",
        "clientSecret": "new_client_secret",
        "apiKey": "new_api_key",
        "refreshToken": "new_refresh_token",
    }

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        client_id = data.get("client_id") or ""
        client_secret = data.get("new_client_secret") or ""
        client_changed = bool(client_secret) or client_id != (self.instance.client_id or "")
        return {
            "map_name": data.get("map_name") or "",
            "key_name": data.get("key_name") or "",
            "client_id": client_id if client_changed else None,
            "client_secret": client_secret if client_changed else None,
            "api_key": data.get("new_api_key") or None,
            "refresh_token": data.get("new_refresh_token") or None,
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            credential_input_validate(**self.service_arguments())
        except ValidationError as exc:
            add_service_errors(self, exc, self.FIELD_NAMES)
        return cleaned

    def validate_unique(self):
        # The service updates the entry of (map, key) if it exists: no duplicate error here.
        pass


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialAdminForm
    list_display = CREDENTIAL_SUMMARY_FIELDS
    list_filter = ("map_name",)
    search_fields = ("map_name", "key_name", "client_id")
    readonly_fields = (
        "has_client_secret",
        "has_api_key",
        "has_refresh_token",
        "updated_at",
        "updated_by",
    )

    @admin.display(boolean=True, description="Client secret set")
    def has_client_secret(self, obj):
        return obj.has_client_secret

    @admin.display(boolean=True, description="API key set")
    def has_api_key(self, obj):
        return obj.has_api_key

    @admin.display(boolean=True, description="Refresh token set")
    def has_refresh_token(self, obj):
        return obj.has_refresh_token

    def get_fields(self, request, obj=None):
        fields = ["map_name", "key_name", "client_id"]
        if self.has_change_permission(request, obj):
            fields += ["new_client_secret", "new_api_key", "new_refresh_token"]
        return [*fields, *self.readonly_fields]

    # Only System Admin saves secrets (DESIGN.md "Roles"); others may at most look.
    def has_add_permission(self, request):
        return roles.user_may_save_secrets(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.user_may_save_secrets(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.user_may_save_secrets(request.user)

    def save_model(self, request, obj, form, change):
        saved = credential_set(acting_user=request.user, **form.service_arguments())
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        credential_delete(map_name=obj.map_name, key_name=obj.key_name, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
