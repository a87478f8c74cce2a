"""What inbound sync registers at start-up (SyncingConfig.ready): its settings, the sign-in
trigger, schedules, role permissions, the connections panel, its outcome source and header
link, the /v2.1/ contract, its part of the demo, and its metrics."""

from django.contrib.auth.signals import user_logged_in

from integration_hub import dashboard, roles
from integration_hub.demo_steps import DemoContext, DemoStep
from integration_hub.registry import ContractUrls, Receiver, RolePermissions
from integration_hub.schedules import CRON, MINUTES, ScheduleSpec
from integration_hub.system_settings import SettingDefinition, SettingKind

from .metrics import SYNC_JOBS
from .panels import connections_panel_context, connections_panel_visible, sync_outcomes

CATEGORY = "Inbound sync"


def _sync_on_sign_in(sender, request, user, **kwargs) -> None:
    from .services.triggers import sync_on_sign_in

    sync_on_sign_in(user=user)


def _demo_connection(context: DemoContext) -> list[str]:
    from .demo import syncing_demo_setup

    connection = syncing_demo_setup(base_url=context.base_url)
    return [
        f"  Connections  {connection.integration.base_url} (the Owner's connection; its sync "
        "runs on the cluster)"
    ]


_VIEW = tuple(
    f"syncing.view_{model}"
    for model in ("connection", "syncjob", "verifiedidentity", "notification")
)

DECLARATIONS = [
    SettingDefinition(
        "InvoiceSyncHours",
        SettingKind.HOURS,
        "8-20",
        CATEGORY,
        "Local hours (TIME_ZONE) in which the hourly invoice sync runs: from the first hour "
        "up to, not including, the second (0-24: round the clock).",
    ),
    SettingDefinition(
        "NotificationWebhookUrl",
        SettingKind.URL,
        "",
        CATEGORY,
        "Where notifications are POSTed as JSON (through the outbound client); empty: they "
        "are written to the log.",
    ),
    # Reference 000: account data is fetched at each sign-in.
    Receiver(user_logged_in, _sync_on_sign_in, dispatch_uid="syncing.sync_on_sign_in"),
    # Every 5 minutes: fail syncs stuck running or never picked up (SYNC_ALL_ERROR).
    ScheduleSpec(
        name="syncing.watchdog",
        func="syncing.tasks.sync_watchdog_task",
        schedule_type=MINUTES,
        minutes=5,
    ),
    # Every hour on the hour; runs only inside InvoiceSyncHours (local time).
    ScheduleSpec(
        name="syncing.invoices_hourly",
        func="syncing.tasks.invoice_sync_hourly_task",
        schedule_type=CRON,
        cron="0 * * * *",
    ),
    # 02:00 every night: an account sync for every customerId (reference 000).
    ScheduleSpec(
        name="syncing.accounts_nightly",
        func="syncing.tasks.account_sync_nightly_task",
        schedule_type=CRON,
        cron="0 2 * * *",
    ),
    # 04:00 every day: a full sync of the connections with autoSync (reference 002).
    ScheduleSpec(
        name="syncing.auto_sync_daily",
        func="syncing.tasks.auto_sync_daily_task",
        schedule_type=CRON,
        cron="0 4 * * *",
    ),
    # Every 5 minutes: notifications whose delivery failed are tried again.
    ScheduleSpec(
        name="syncing.notifications_retry",
        func="syncing.tasks.notifications_deliver_task",
        schedule_type=MINUTES,
        minutes=5,
    ),
    RolePermissions(roles.JOB_ADMIN, _VIEW),
    RolePermissions(roles.SYSTEM_CONFIG, _VIEW),
    dashboard.Panel(
        name="connections",
        title="Connections",
        template="syncing/panels/connections.html",
        context=connections_panel_context,
        visible=connections_panel_visible,
        order=10,
    ),
    dashboard.OutcomeSource(name="connections", counts=sync_outcomes),
    dashboard.NavLink(title="Notifications", url_name="notifications", order=10),
    dashboard.NavLink(title="Identities", url_name="identity-list", order=20),
    # Reference 002's API.
    ContractUrls(prefix="v2.1/", module="syncing.v21_urls"),
    DemoStep(name="connections", run=_demo_connection, order=50, needs_sandbox=True),
    SYNC_JOBS,
]
