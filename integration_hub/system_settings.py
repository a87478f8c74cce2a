"""System settings: keys declared in code, values in the database, cached per process.

Each app declares its keys with `settings_declare` in its AppConfig.ready; `setting_get`
reads the cached, typed value. The cache checks the settings version (one row, bumped by
every change) at most once per CHECK_INTERVAL seconds, so a change made by another process
is seen within that time without a query per read.
"""

import enum
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

CHECK_INTERVAL = 1.0


class SettingKind(enum.Enum):
    BOOL = "bool"
    INT = "int"
    TEXT = "text"
    URL = "url"
    SECRET = "secret"  # noqa: S105 (a kind of setting, not a password)
    HOURS = "hours"  # an "8-20" range of local hours


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_HOURS = re.compile(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*$")


@dataclass(frozen=True)
class SettingDefinition:
    key: str
    kind: SettingKind
    default: Any
    category: str
    help_text: str = ""
    min_value: int | None = None
    max_value: int | None = None
    validators: tuple[Callable[[Any], None], ...] = field(default=())
    # Decides which host receives a secret (a URL, a credential's name): only System Admin
    # sets it (DESIGN.md, "Roles").
    routes_secret: bool = False

    @property
    def is_secret(self) -> bool:
        return self.kind is SettingKind.SECRET

    def parse(self, raw: str | bool | int) -> Any:
        """The typed value of `raw`, or ValidationError naming this key."""
        try:
            value = self._parse(raw)
            for validator in self.validators:
                validator(value)
        except ValidationError as exc:
            raise ValidationError({self.key: exc.messages}) from exc
        return value

    def _parse(self, raw):
        text = str(raw).strip() if not isinstance(raw, bool) else ("true" if raw else "false")
        if self.kind is SettingKind.BOOL:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValidationError(f"Enter true or false (yes/no also work), not {text!r}.")
        if self.kind is SettingKind.INT:
            try:
                number = int(text)
            except ValueError:
                raise ValidationError(f"Enter a whole number, not {text!r}.") from None
            if self.min_value is not None and number < self.min_value:
                raise ValidationError(f"Must be at least {self.min_value}.")
            if self.max_value is not None and number > self.max_value:
                raise ValidationError(f"Must be at most {self.max_value}.")
            return number
        if self.kind is SettingKind.URL:
            if not text:
                return ""
            from integration_hub.outbound.errors import OutboundPolicyError
            from integration_hub.outbound.policy import check_url

            try:
                check_url(text)
            except OutboundPolicyError as exc:
                raise ValidationError(str(exc)) from None
            return text
        if self.kind is SettingKind.HOURS:
            match = _HOURS.match(text)
            start, end = (int(match[1]), int(match[2])) if match else (-1, -1)
            if not (0 <= start < end <= 24):
                raise ValidationError(f"Enter a range of hours such as 8-20, not {text!r}.")
            return f"{start}-{end}"
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        return str(raw) if self.is_secret else text

    def to_text(self, value: Any) -> str:
        if self.kind is SettingKind.BOOL:
            return "true" if value else "false"
        return "" if value is None else str(value)


_definitions: dict[str, SettingDefinition] = {}


def settings_declare(*definitions: SettingDefinition) -> None:
    for definition in definitions:
        existing = _definitions.get(definition.key)
        if existing is not None and existing != definition:
            raise ValueError(f"Setting {definition.key} is declared twice, differently.")
        _definitions[definition.key] = definition


def setting_definition(key: str) -> SettingDefinition:
    try:
        return _definitions[key]
    except KeyError:
        known = ", ".join(sorted(_definitions))
        raise ValidationError(
            {"key": [f"Unknown setting {key!r}. Known settings: {known}."]}
        ) from None


def setting_definitions() -> list[SettingDefinition]:
    return sorted(_definitions.values(), key=lambda d: (d.category, d.key))


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.version: int | None = None
        self.values: dict[str, Any] = {}
        self.checked_at = 0.0


_cache = _Cache()


def settings_cache_clear() -> None:
    """Forget the cached values (the next read loads them again)."""
    with _cache.lock:
        _cache.version = None
        _cache.checked_at = 0.0


def _load_values() -> tuple[int, dict[str, Any]]:
    from integration_hub.models import SettingsVersion, SystemSetting

    version = SettingsVersion.objects.values_list("version", flat=True).first() or 0
    values = {}
    for row in SystemSetting.objects.all():
        definition = _definitions.get(row.key)
        if definition is None:
            continue  # a key no app declares any more
        raw = row.secret_value if definition.is_secret else row.value
        try:
            values[row.key] = definition.parse(raw)
        except ValidationError:
            continue  # stored before a rule tightened: fall back to the default
    return version, values


def _current_values() -> dict[str, Any]:
    from integration_hub.models import SettingsVersion

    now = time.monotonic()
    if _cache.version is not None and now - _cache.checked_at < CHECK_INTERVAL:
        return _cache.values
    with _cache.lock:
        version = SettingsVersion.objects.values_list("version", flat=True).first() or 0
        if version != _cache.version:
            version, values = _load_values()
            _cache.values = values
            _cache.version = version
        _cache.checked_at = now
        return _cache.values


_change_hooks: dict[str, list[Callable[[str], None]]] = {}


def setting_on_change(key: str, callback: Callable[[str], None]) -> None:
    """Call `callback(key)` after a transaction that changed (or reset) `key` commits.

    Declared in AppConfig.ready; for example an interval setting rewrites its Schedule row."""
    hooks = _change_hooks.setdefault(key, [])
    if callback not in hooks:
        hooks.append(callback)


def setting_change_hooks(key: str) -> list[Callable[[str], None]]:
    return list(_change_hooks.get(key, ()))


def setting_get(key: str) -> Any:
    """The typed value of a declared setting (its default when never set)."""
    definition = setting_definition(key)
    return _current_values().get(key, definition.default)


def setting_is_set(key: str) -> bool:
    return key in _current_values()
