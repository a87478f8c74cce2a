"""The core's admin, one module per subject: base (read-only classes), accounts (users and
subscribers), integrations (integrations and the credential store), settings (system settings
pages), monitoring (audit trail and cluster heartbeats), records (customers, orders, imports),
signin (axes' sign-in attempts and logs), tokens (API tokens).

Pipelines' admins build on `ReadOnlyAdmin`, `ReadOnlyInline` and the settings form helpers,
importable from here.
"""

from django.contrib import admin

from integration_hub.admin import (  # noqa: F401
    accounts,
    integrations,
    monitoring,
    records,
    signin,
    tokens,
)
from integration_hub.admin.base import ReadOnlyAdmin, ReadOnlyInline
from integration_hub.admin.settings import (
    settings_category_save,
    settings_form_class,
    settings_form_initial,
)

admin.site.site_header = "Integration Hub administration"
admin.site.site_title = "Integration Hub"

__all__ = [
    "ReadOnlyAdmin",
    "ReadOnlyInline",
    "settings_category_save",
    "settings_form_class",
    "settings_form_initial",
]
