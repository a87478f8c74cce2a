"""What the admin pages of every app build on: read-only pages and inlines, and a service's
errors shown on a form."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError


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


def _camel_to_field(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def add_service_errors(form: forms.Form, exc: ValidationError, field_names: dict[str, str]) -> None:
    """Show a service's ValidationError (camelCase keys) on the form's fields."""
    for key, errors in exc.message_dict.items():
        field = field_names.get(key, _camel_to_field(key))
        form.add_error(field if field in form.fields else None, errors)
