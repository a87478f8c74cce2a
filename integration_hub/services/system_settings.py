from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from integration_hub.models import SettingsVersion, SystemSetting
from integration_hub.roles import user_may_save_secrets
from integration_hub.system_settings import (
    setting_change_hooks,
    setting_definition,
    settings_cache_clear,
)

from .audit import audit_record
from .errors import secret_routing_guard


def _run_change_hooks_on_commit(key: str) -> None:
    for hook in setting_change_hooks(key):
        transaction.on_commit(lambda hook=hook: hook(key))


def _bump_settings_version() -> None:
    updated = SettingsVersion.objects.update(version=F("version") + 1)
    if not updated:
        SettingsVersion.objects.create(version=1)
    # This process sees its own change at once; others within the check interval.
    transaction.on_commit(settings_cache_clear)
    settings_cache_clear()


@transaction.atomic
def setting_set(*, key: str, value: Any, acting_user=None) -> Any:
    """Validate and store a setting; returns the typed value.

    A secret-valued setting is stored encrypted and may be set only by System Admin (or from
    the shell, acting_user None). An empty value resets the setting to its default.
    """
    definition = setting_definition(key)
    if definition.is_secret and acting_user is not None and not user_may_save_secrets(acting_user):
        raise PermissionDenied(f"Only System Admin may set {key}: it holds a secret.")
    raw = "" if value is None else value
    if definition.routes_secret:
        _routing_guard(definition, acting_user, "" if raw == "" else definition.parse(raw))
    if raw == "":
        SystemSetting.objects.filter(key=key).delete()
        typed = definition.default
    else:
        typed = definition.parse(raw)
        text = definition.to_text(typed)
        fields = {"secret_value": text, "value": ""} if definition.is_secret else {"value": text}
        SystemSetting.objects.update_or_create(
            key=key, defaults={**fields, "updated_by": _user(acting_user)}
        )
    _bump_settings_version()
    _run_change_hooks_on_commit(key)
    details = (
        {"key": key} if definition.is_secret else {"key": key, "value": definition.to_text(typed)}
    )
    audit_record(actor=acting_user, action="setting.changed", target=key, details=details)
    return typed


@transaction.atomic
def setting_reset(*, key: str, acting_user=None) -> None:
    definition = setting_definition(key)
    if definition.is_secret and acting_user is not None and not user_may_save_secrets(acting_user):
        raise PermissionDenied(f"Only System Admin may change {key}: it holds a secret.")
    if definition.routes_secret and SystemSetting.objects.filter(key=key).exists():
        secret_routing_guard(acting_user=acting_user, fields=[key])
    SystemSetting.objects.filter(key=key).delete()
    _bump_settings_version()
    _run_change_hooks_on_commit(key)
    audit_record(actor=acting_user, action="setting.reset", target=key, details={"key": key})


def _routing_guard(definition, acting_user, typed) -> None:
    """Refuse a change of a secret-routing setting by anyone but System Admin; setting the
    value it has is no change. An empty value means the default (clearing the setting).
    Compared with the row itself, locked, not with this process's cache of settings: a value
    a System Admin has just changed is not put back as "unchanged"."""
    row = SystemSetting.objects.select_for_update().filter(key=definition.key).first()
    current = definition.parse(row.value) if row is not None else definition.default
    wanted = definition.default if typed == "" else typed
    if wanted != current or (typed == "" and row is not None):
        secret_routing_guard(acting_user=acting_user, fields=[definition.key])


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None
