"""What Data Sync registers at start-up (DatasyncConfig.ready): the settings of reference 003
with the keys of DESIGN.md ("Data Sync"), the capture receivers on the core's domain signals,
the schedule and its rewrite when the interval changes, role permissions, the dashboard panel,
outcome source and header link, its part of the demo, and its metrics."""

from integration_hub import dashboard, roles, signals
from integration_hub.demo_steps import DemoContext, DemoStep
from integration_hub.metrics import MetricsCollector
from integration_hub.models import DEFAULT_CREDENTIAL_MAP
from integration_hub.registry import Receiver, RolePermissions, SettingHook
from integration_hub.schedules import MINUTES, ScheduleSpec
from integration_hub.system_settings import SettingDefinition, SettingKind

from .metrics import DELIVERED, RUN_SECONDS, RUNS, queue_records_collect
from .panels import datasync_panel_context, run_outcomes
from .services.capture import (
    on_customer_changed,
    on_customer_created,
    on_customer_deleted,
    on_customers_merged,
    on_order_posted,
)

CATEGORY = "Data Sync"
SCHEDULE_NAME = "Data Sync"


def _schedule_rewrite(key: str) -> None:
    from integration_hub.schedules import schedules_ensure

    schedules_ensure()


def _demo_datasync(context: DemoContext) -> list[str]:
    from .demo import datasync_demo_setup

    sandbox = context.shared["sandbox_integration"]
    receiver_url = datasync_demo_setup(
        base_url=context.base_url,
        sandbox_map=sandbox.credential_map,
        sandbox_key=sandbox.credential_key,
    )
    return [f"  Data Sync    {receiver_url}"]


_VIEW = tuple(
    f"datasync.view_{model}"
    for model in ("syncrun", "customerpendingrecord", "transactionpendingrecord", "progressrecord")
)
_CAPTURE = "datasync.capture."

DECLARATIONS = [
    SettingDefinition(
        "DataSyncEnabled",
        SettingKind.BOOL,
        False,
        CATEGORY,
        "Capture customer and transaction changes and send them.",
    ),
    SettingDefinition(
        "DataSyncApiUrl",
        SettingKind.URL,
        "",
        CATEGORY,
        "The URL of the REST endpoint the messages are POSTed to.",
        routes_secret=True,
    ),
    SettingDefinition(
        "DataSyncTokenUrl",
        SettingKind.URL,
        "",
        CATEGORY,
        "The OAuth2 token endpoint that issues the Bearer token for the API.",
        routes_secret=True,
    ),
    SettingDefinition(
        "DataSyncCredentialMapName",
        SettingKind.TEXT,
        DEFAULT_CREDENTIAL_MAP,
        CATEGORY,
        "The credential store map holding the client ID and secret.",
        routes_secret=True,
    ),
    SettingDefinition(
        "DataSyncCredentialKeyName",
        SettingKind.TEXT,
        "datasync",
        CATEGORY,
        "The key of the client ID and secret within that map.",
        routes_secret=True,
    ),
    SettingDefinition(
        "DataSyncBatchSize",
        SettingKind.INT,
        100,
        CATEGORY,
        "Records moved from the pending queues to the progress queue per batch.",
        min_value=1,
        max_value=10_000,
    ),
    SettingDefinition(
        "DataSyncMessagesPerRequest",
        SettingKind.INT,
        1,
        CATEGORY,
        "Messages per POST (1 is the documented behaviour).",
        min_value=1,
        max_value=1_000,
    ),
    SettingDefinition(
        "DataSyncMaxAttempts",
        SettingKind.INT,
        10,
        CATEGORY,
        "Failed attempts before a record is dead-lettered.",
        min_value=1,
        max_value=1_000,
    ),
    SettingDefinition(
        "DataSyncIntervalMinutes",
        SettingKind.INT,
        5,
        CATEGORY,
        "Minutes between scheduled runs.",
        min_value=1,
        max_value=1_440,
    ),
    SettingDefinition(
        "DataSyncConcurrency",
        SettingKind.INT,
        1,
        CATEGORY,
        "Lanes one run delivers at once (1: one deliverer, global capture order; above 1: "
        "a lease per lane, shared with other runs and clusters).",
        min_value=1,
        max_value=32,
    ),
    SettingDefinition(
        "DataSyncSigningSecret",
        SettingKind.SECRET,
        "",
        CATEGORY,
        "When set, messages carry Standard Webhooks signatures (whsec_...).",
    ),
    # Reference 003's triggers: every change is captured in the transaction that makes it.
    Receiver(signals.customer_created, on_customer_created, dispatch_uid=_CAPTURE + "created"),
    Receiver(signals.customer_updated, on_customer_changed, dispatch_uid=_CAPTURE + "updated"),
    Receiver(signals.customer_note_added, on_customer_changed, dispatch_uid=_CAPTURE + "note"),
    Receiver(
        signals.customer_segment_joined, on_customer_changed, dispatch_uid=_CAPTURE + "joined"
    ),
    Receiver(signals.customer_segment_left, on_customer_changed, dispatch_uid=_CAPTURE + "left"),
    Receiver(signals.customer_deleted, on_customer_deleted, dispatch_uid=_CAPTURE + "deleted"),
    Receiver(signals.customers_merged, on_customers_merged, dispatch_uid=_CAPTURE + "merged"),
    Receiver(signals.order_posted, on_order_posted, dispatch_uid=_CAPTURE + "order"),
    # Every DataSyncIntervalMinutes; rewritten when that setting changes.
    ScheduleSpec(
        name=SCHEDULE_NAME,
        func="datasync.tasks.datasync_scheduled_run",
        schedule_type=MINUTES,
        minutes_setting="DataSyncIntervalMinutes",
    ),
    SettingHook("DataSyncIntervalMinutes", _schedule_rewrite),
    RolePermissions(roles.JOB_ADMIN, (*_VIEW, "datasync.run_datasync")),
    RolePermissions(roles.SYSTEM_CONFIG, _VIEW),
    # Data Sync is global: its runs, page and panel are for admin roles only.
    dashboard.OutcomeSource(
        name="datasync", counts=run_outcomes, visible=roles.user_has_admin_role
    ),
    dashboard.NavLink(
        title="Data Sync", url_name="datasync-page", visible=roles.user_has_admin_role
    ),
    dashboard.Panel(
        name="datasync",
        title="Data Sync",
        template="datasync/panels/datasync.html",
        context=datasync_panel_context,
        visible=roles.user_has_admin_role,
        order=30,
    ),
    DemoStep(name="datasync", run=_demo_datasync, order=30, needs_sandbox=True),
    DELIVERED,
    RUNS,
    RUN_SECONDS,
    # The queue depths, counted at each scrape (three counts, no per-lane scan).
    MetricsCollector(name="datasync.queues", collect=queue_records_collect),
]
