"""Admin for system admins. Thin: forms validate through the services, saves call them.

Secrets are write-only: the credential form has password inputs that never render a value,
list pages show only whether a secret is set, and nobody but System Admin may save one.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from integration_hub import (
    admin_records,  # noqa: F401  (customers and orders)
    roles,
    system_settings,
)
from integration_hub.models import (
    AuditEntry,
    ClusterHeartbeat,
    Credential,
    Integration,
    Subscriber,
    SubscriberOwner,
    SystemSetting,
    User,
)
from integration_hub.services.credentials import (
    credential_delete,
    credential_input_validate,
    credential_set,
)
from integration_hub.services.integrations import (
    integration_create,
    integration_delete,
    integration_update,
    integration_validate,
)
from integration_hub.services.jobs import job_enqueue
from integration_hub.services.system_settings import setting_reset, setting_set

admin.site.site_header = "Integration Hub administration"
admin.site.site_title = "Integration Hub"


def _camel_to_field(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _add_service_errors(
    form: forms.Form, exc: ValidationError, field_names: dict[str, str]
) -> None:
    """Show a service's ValidationError (camelCase keys) on the form's fields."""
    for key, errors in exc.message_dict.items():
        field = field_names.get(key, _camel_to_field(key))
        form.add_error(field if field in form.fields else None, errors)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")


class SubscriberOwnerInline(admin.TabularInline):
    """Who owns the subscriber. Read-only: ownership goes with the Owner role, granted and
    revoked (with its audit row) by `manage.py roles grant USER Owner --subscriber ID`."""

    model = SubscriberOwner
    extra = 0
    fields = ("user", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at")
    search_fields = ("name",)
    inlines = [SubscriberOwnerInline]


class IntegrationAdminForm(forms.ModelForm):
    base_url = forms.URLField(max_length=1000, assume_scheme="https")
    token_url = forms.URLField(max_length=1000, required=False, assume_scheme="https")

    class Meta:
        model = Integration
        fields = [
            "name",
            "kind",
            "base_url",
            "auth_type",
            "token_url",
            "credential_map",
            "credential_key",
            "enabled",
            "service_user",
        ]

    def clean(self):
        cleaned = super().clean()
        candidate = Integration(**{k: v for k, v in cleaned.items() if k in _integration_fields()})
        try:
            integration_validate(candidate)
        except ValidationError as exc:
            _add_service_errors(self, exc, {})
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
            _add_service_errors(self, exc, self.FIELD_NAMES)
        return cleaned

    def validate_unique(self):
        # The service updates the entry of (map, key) if it exists: no duplicate error here.
        pass


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    form = CredentialAdminForm
    list_display = (
        "map_name",
        "key_name",
        "client_id",
        "has_client_secret",
        "has_api_key",
        "has_refresh_token",
        "updated_at",
    )
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Run, log and audit rows: looked at, never edited in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows of a run shown on its page (a record's packets): looked at, never edited."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "target")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)


@admin.register(ClusterHeartbeat)
class ClusterHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("cluster_name", "host", "seen_at")
    change_list_template = "admin/integration_hub/clusterheartbeat/change_list.html"

    def get_urls(self):
        check = path(
            "check-now/",
            self.admin_site.admin_view(self.check_now_view),
            name="integration_hub_clusterheartbeat_check_now",
        )
        return [check, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_run_jobs": _may_run_jobs(request.user)}
        return super().changelist_view(request, extra_context)

    def check_now_view(self, request):
        """Queue a heartbeat: if a cluster is up, its row updates within seconds."""
        if request.method != "POST" or not _may_run_jobs(request.user):
            raise PermissionDenied
        job_enqueue(
            func="integration_hub.tasks.cluster_heartbeat",
            description="Cluster heartbeat (checked from the admin)",
            acting_user=request.user,
        )
        messages.info(
            request, "Heartbeat queued: reload in a few seconds to see the cluster report."
        )
        return HttpResponseRedirect(reverse("admin:integration_hub_clusterheartbeat_changelist"))


def _may_run_jobs(user) -> bool:
    return user.has_perm("integration_hub.run_jobs")


def _category_slug(category: str) -> str:
    return slugify(category)


def _categories() -> dict[str, list[system_settings.SettingDefinition]]:
    grouped: dict[str, list] = {}
    for definition in system_settings.setting_definitions():
        grouped.setdefault(definition.category, []).append(definition)
    return grouped


def settings_form_class(definitions, user) -> type[forms.Form]:
    """A form with one typed field per setting of a category. Secret settings are write-only
    and disabled for anyone but System Admin."""
    fields = {}
    may_save_secrets = roles.user_may_save_secrets(user)
    for definition in definitions:
        common = {"label": definition.key, "help_text": definition.help_text, "required": False}
        if definition.is_secret:
            field = forms.CharField(
                widget=forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "new-password"}
                ),
                strip=False,
                disabled=not may_save_secrets,
                **{
                    **common,
                    "help_text": f"{definition.help_text} Write-only: leave empty to keep it.",
                },
            )
        elif definition.kind is system_settings.SettingKind.BOOL:
            field = forms.BooleanField(**common)
        else:
            field = forms.CharField(**common)
        fields[definition.key] = field
    return type("SystemSettingsForm", (forms.Form,), fields)


@admin.register(SystemSetting)
class SystemSettingAdmin(admin.ModelAdmin):
    """One page per category of declared settings ("Data Sync", "Outbound HTTP", ...).

    Only the list and the category pages exist: no per-row change view, which would show a
    secret setting's value and save around the typed validation, the audit and the cache."""

    exclude = ("secret_value",)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "category/<slug:category>/",
                self.admin_site.admin_view(self.category_view),
                name="integration_hub_systemsetting_category",
            ),
            path(
                "",
                self.admin_site.admin_view(self.changelist_view),
                name="{}_{}_changelist".format(*info),
            ),
        ]

    def has_change_permission(self, request, obj=None):
        # Row-level change is not offered; category pages check the model permission.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        categories = [
            {
                "name": name,
                "url": reverse(
                    "admin:integration_hub_systemsetting_category", args=[_category_slug(name)]
                ),
                "rows": [
                    {
                        "key": d.key,
                        "value": ("set" if system_settings.setting_is_set(d.key) else "not set")
                        if d.is_secret
                        else d.to_text(system_settings.setting_get(d.key)),
                        "is_default": not system_settings.setting_is_set(d.key),
                        "help_text": d.help_text,
                    }
                    for d in definitions
                ],
            }
            for name, definitions in _categories().items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "System settings",
            "categories": categories,
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/integration_hub/systemsetting/change_list.html", context
        )

    def category_view(self, request, category: str):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        matches = {
            name: defs for name, defs in _categories().items() if _category_slug(name) == category
        }
        if not matches:
            raise Http404("No such settings category.")
        name, definitions = next(iter(matches.items()))
        form_class = settings_form_class(definitions, request.user)
        may_change = self.has_change_permission(request)
        initial = settings_form_initial(definitions)
        if request.method == "POST":
            if not may_change:
                raise PermissionDenied
            form = form_class(request.POST, initial=initial)
            if form.is_valid() and self._save_category(request, form, definitions):
                messages.success(request, f"{name} settings saved.")
                return HttpResponseRedirect(request.path)
        else:
            form = form_class(initial=initial)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{name} settings",
            "category": name,
            "form": form,
            "may_change": may_change,
            "opts": self.model._meta,
            "secrets_set": {
                d.key: system_settings.setting_is_set(d.key) for d in definitions if d.is_secret
            },
        }
        return TemplateResponse(
            request, "admin/integration_hub/systemsetting/category.html", context
        )

    def _save_category(self, request, form, definitions) -> bool:
        return settings_category_save(request, form, definitions)


def settings_form_initial(definitions) -> dict:
    """The current values of a category's settings, as its form shows them (no secrets)."""
    return {
        d.key: (
            system_settings.setting_get(d.key)
            if d.kind is system_settings.SettingKind.BOOL
            else d.to_text(system_settings.setting_get(d.key))
        )
        for d in definitions
        if not d.is_secret
    }


def settings_category_save(request, form, definitions) -> bool:
    """Validate every value of a settings form first, then save them all, so nothing is half
    written. Used by the category pages and by pipelines' own settings pages (Data Sync)."""
    pending = []
    for definition in definitions:
        if definition.is_secret:
            value = form.cleaned_data.get(definition.key) or ""
            if request.POST.get(f"clear_{definition.key}"):
                pending.append((definition, None))
            elif value and roles.user_may_save_secrets(request.user):
                pending.append((definition, value))
            continue
        value = form.cleaned_data.get(definition.key)
        if definition.kind is system_settings.SettingKind.BOOL:
            value = bool(value)
        if definition.key in form.changed_data:
            if value in ("", None):
                pending.append((definition, ""))  # an emptied box means the default
                continue
            try:
                definition.parse(value if value is not None else "")
            except ValidationError as exc:
                form.add_error(definition.key, exc.message_dict[definition.key])
                continue
            pending.append((definition, value))
    if form.errors:
        return False
    from django.db import transaction

    with transaction.atomic():
        for definition, value in pending:
            if value is None:
                setting_reset(key=definition.key, acting_user=request.user)
            else:
                setting_set(key=definition.key, value=value, acting_user=request.user)
    return True
