"""What the accounting export registers at start-up (AccountingConfig.ready): role
permissions, the dashboard panel and outcome source, the watchdog and per-integration
schedules, the reference 004 contract, its part of the demo, and its metrics."""

from integration_hub import dashboard, roles
from integration_hub.demo_steps import DemoContext, DemoStep
from integration_hub.registry import ContractUrls, RolePermissions, SchedulesHook
from integration_hub.schedules import MINUTES, ScheduleSpec

from .metrics import PACKETS
from .panels import accounting_panel_context, accounting_panel_visible, record_outcomes


def _integration_schedules() -> list[tuple[str, str]]:
    from .services.integrations import accounting_schedules_ensure

    return accounting_schedules_ensure()


def _demo_integration(context: DemoContext) -> list[str]:
    from .demo import accounting_demo_setup, accounting_systems_demo_setup

    accounting = accounting_demo_setup(base_url=context.base_url)
    lines = [
        f"  Accounting   {accounting.integration.base_url} (press Sync on the dashboard as the "
        "Owner)"
    ]
    for system in accounting_systems_demo_setup(base_url=context.base_url):
        lines.append(
            f"  {system.get_integration_type_display():<12} {context.base_url}/accounting/"
            f"{system.pk}/ (Connect as the Owner, then Sync)"
        )
    return lines


_RECORDS = ("syncrecord", "packet", "exportedkey", "accountingintegration", "accountingmap")

DECLARATIONS = [
    RolePermissions(roles.JOB_ADMIN, tuple(f"accounting.view_{model}" for model in _RECORDS)),
    RolePermissions(
        roles.SYSTEM_CONFIG,
        (
            *(
                f"accounting.{action}_{model}"
                for action in ("add", "change", "delete", "view")
                for model in ("accountingintegration", "accountingmap")
            ),
            "accounting.view_syncrecord",
            "accounting.view_packet",
            "accounting.view_exportedkey",
        ),
    ),
    dashboard.Panel(
        name="accounting",
        title="Accounting",
        template="accounting/panels/accounting.html",
        context=accounting_panel_context,
        visible=accounting_panel_visible,
        order=20,
    ),
    dashboard.OutcomeSource(
        name="accounting", counts=record_outcomes, visible=accounting_panel_visible
    ),
    # Every 5 minutes: marks Failed the Sync runs that died (worker killed, timed out).
    ScheduleSpec(
        name="Accounting sync watchdog",
        func="accounting.tasks.sync_records_watchdog",
        schedule_type=MINUTES,
        minutes=5,
    ),
    # One schedule per enabled integration, at its own interval.
    SchedulesHook(_integration_schedules),
    # Reference 004: /Subscriber_{id}/AccountingIntegration/Type_{type}/...
    ContractUrls(prefix="", module="accounting.reference004_urls"),
    DemoStep(name="accounting", run=_demo_integration, order=40, needs_sandbox=True),
    PACKETS,
]
