"""System settings in the admin: one page per category of declared settings. The form
helpers serve pipelines' own settings pages too (Data Sync)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from integration_hub import roles, system_settings
from integration_hub.models import SystemSetting
from integration_hub.services.system_settings import setting_reset, setting_set


def _category_slug(category: str) -> str:
    return slugify(category)


def _categories() -> dict[str, list[system_settings.SettingDefinition]]:
    grouped: dict[str, list] = {}
    for definition in system_settings.setting_definitions():
        grouped.setdefault(definition.category, []).append(definition)
    return grouped


ROUTING_READ_ONLY = "Only System Admin may change where a secret goes."


def settings_form_class(definitions, user) -> type[forms.Form]:
    """A form with one typed field per setting of a category. Secret settings are write-only,
    and they and the settings that decide where a secret goes are disabled for anyone but
    System Admin."""
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
        elif definition.routes_secret and not may_save_secrets:
            # Read-only: where a secret goes is a System Admin decision.
            field = forms.CharField(
                disabled=True,
                **{**common, "help_text": f"{definition.help_text} {ROUTING_READ_ONLY}"},
            )
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
    with transaction.atomic():
        for definition, value in pending:
            if value is None:
                setting_reset(key=definition.key, acting_user=request.user)
            else:
                setting_set(key=definition.key, value=value, acting_user=request.user)
    return True
