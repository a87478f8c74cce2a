"""What each app registers at start-up, written down in its `declarations.py` as a list and
taken in by `declare()` from its `AppConfig.ready()` (STYLE.md, "Shape of an app").

The core reads these registries without importing any pipeline: system settings, schedules,
role permissions, dashboard panels, header links, outcome sources, demo steps, URL modules
of external contracts, signal receivers, and metrics (counters, histograms and the
collectors `/metrics` runs at scrape time).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.dispatch import Signal

from integration_hub import dashboard, roles, schedules, system_settings
from integration_hub.demo_steps import DemoStep, demo_step_register
from integration_hub.metrics.instruments import (
    Metric,
    MetricsCollector,
    collector_declare,
    metric_declare,
)


@dataclass(frozen=True)
class RolePermissions:
    """Permissions ("app_label.codename", or "*") that `role` holds."""

    role: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class Receiver:
    """`receiver` connected to `signal` (once, by `dispatch_uid`); `sender_app`, an app
    label, limits it to that app's signals (post_migrate's sender is an AppConfig)."""

    signal: Signal
    receiver: Callable
    dispatch_uid: str
    sender_app: str | None = None


def _receiver_connect(item: Receiver) -> None:
    from django.apps import apps

    sender = apps.get_app_config(item.sender_app) if item.sender_app else None
    item.signal.connect(item.receiver, sender=sender, dispatch_uid=item.dispatch_uid, weak=False)


@dataclass(frozen=True)
class SettingHook:
    """`hook(key)` runs after a transaction that changed the setting `key` commits."""

    key: str
    hook: Callable[[str], None]


@dataclass(frozen=True)
class SchedulesHook:
    """Schedules that depend on data (one per row), ensured with the declared ones."""

    hook: Callable[[], list[tuple[str, str]]]


@dataclass(frozen=True)
class ContractUrls:
    """A URL module serving an external contract, mounted at `prefix` ("" for the root)."""

    prefix: str
    module: str
    order: int = 100


_contract_urls: list[ContractUrls] = []


def contract_urls() -> list[ContractUrls]:
    return sorted(_contract_urls, key=lambda urls: (urls.order, urls.module))


def _contract_urls_register(urls: ContractUrls) -> None:
    if urls not in _contract_urls:
        _contract_urls.append(urls)


@dataclass(frozen=True)
class _Kind:
    type: type
    register: Callable[[object], None] = field(repr=False)


_KINDS = (
    _Kind(system_settings.SettingDefinition, system_settings.settings_declare),
    _Kind(schedules.ScheduleSpec, schedules.schedule_declare),
    _Kind(SchedulesHook, lambda item: schedules.schedules_hook_register(item.hook)),
    _Kind(
        RolePermissions, lambda item: roles.role_permissions_declare(item.role, *item.permissions)
    ),
    _Kind(dashboard.Panel, dashboard.panel_register),
    _Kind(dashboard.NavLink, dashboard.nav_link_register),
    _Kind(dashboard.OutcomeSource, dashboard.outcome_source_register),
    _Kind(DemoStep, demo_step_register),
    _Kind(ContractUrls, _contract_urls_register),
    _Kind(Receiver, _receiver_connect),
    _Kind(SettingHook, lambda item: system_settings.setting_on_change(item.key, item.hook)),
    _Kind(Metric, metric_declare),
    _Kind(MetricsCollector, collector_declare),
)


def declare(declarations: Iterable[object]) -> None:
    """Register each declaration with the registry of its kind."""
    for item in declarations:
        for kind in _KINDS:
            if isinstance(item, kind.type):
                kind.register(item)
                break
        else:
            raise TypeError(f"Nothing registers a {type(item).__name__}: {item!r}")
