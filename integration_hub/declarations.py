"""What the core registers at start-up (IntegrationHubConfig.ready): its system setting, the
role permissions on its own models, its dashboard panels, the API tokens page's header link,
the cluster heartbeat (its schedule and its record after every task) and the sign-in log
schedule, the post-migrate hooks, the sign-in lockout audit, the request and task ids of log
lines, the demo records, and its metrics (outbound requests, clusters last seen) with the
flush of every worker's counts after each task."""

from axes.signals import user_locked_out
from django.core.signals import request_finished
from django.db.models.signals import post_migrate
from django_q.signals import post_execute, post_execute_in_worker, pre_execute

from integration_hub import dashboard, logs, roles
from integration_hub.demo_steps import DemoContext, DemoStep
from integration_hub.metrics import MetricsCollector, metrics_flush_after_task
from integration_hub.metrics.clusters import clusters_last_seen_collect
from integration_hub.outbound.metrics import OUTBOUND_REQUESTS, OUTBOUND_SECONDS
from integration_hub.registry import Receiver, RolePermissions
from integration_hub.schedules import CRON, MINUTES, ScheduleSpec
from integration_hub.system_settings import SettingDefinition, SettingKind


def _schedules_ensure_after_migrate(**kwargs) -> None:
    from django.db import connections

    from integration_hub.schedules import schedules_ensure

    # Only once the django_q tables exist (they do after a full migrate).
    tables = connections[kwargs.get("using", "default")].introspection.table_names()
    if "django_q_schedule" in tables:
        schedules_ensure()


def _role_groups_sync_after_migrate(**kwargs) -> None:
    from integration_hub.services.roles import role_groups_sync_permissions

    role_groups_sync_permissions()


def _signin_lockout_audit(**kwargs) -> None:
    from integration_hub.signin import signin_lockout_audit

    signin_lockout_audit(**kwargs)


def _cluster_heartbeat_after_task(**kwargs) -> None:
    from integration_hub.services.clusters import cluster_heartbeat_after_task

    cluster_heartbeat_after_task(**kwargs)


def _demo_records(context: DemoContext) -> list[str]:
    from integration_hub.demo import demo_records_load
    from integration_hub.selectors import default_subscriber

    customers, orders = demo_records_load(subscriber=default_subscriber())
    if customers:
        return [f"  Records      Loaded {customers} demo customers and {orders} demo orders."]
    return ["  Records      the demo customers and orders are in place"]


def _records(*actions: str, models: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"integration_hub.{action}_{model}" for model in models for action in actions)


DECLARATIONS = [
    SettingDefinition(
        key="OutboundTimeoutSeconds",
        kind=SettingKind.INT,
        default=15,
        min_value=1,
        max_value=120,
        category="Outbound HTTP",
        help_text="Seconds an outbound call may take before it fails with a timeout.",
    ),
    RolePermissions(roles.SYSTEM_ADMIN, (roles.ALL_PERMISSIONS,)),
    RolePermissions(
        roles.SYSTEM_CONFIG,
        (
            *_records("view", "add", "change", "delete", models=("integration",)),
            "integration_hub.view_systemsetting",
            "integration_hub.change_systemsetting",
            "integration_hub.view_credential",
            "integration_hub.view_subscriber",
            "integration_hub.view_auditentry",
            "integration_hub.view_clusterheartbeat",
            # Core records (DESIGN.md "REST API": System Admin / System Config)
            *_records(
                "view",
                "add",
                "change",
                "delete",
                models=("customer", "customernote", "segment", "customersegment"),
            ),
            "integration_hub.view_order",
            "integration_hub.add_order",
            "integration_hub.view_orderitem",
            "integration_hub.view_orderpayment",
        ),
    ),
    RolePermissions(
        roles.JOB_ADMIN,
        (
            "integration_hub.run_jobs",
            "integration_hub.view_auditentry",
            "integration_hub.view_clusterheartbeat",
            "django_q.view_task",
            "django_q.view_success",
            "django_q.view_failure",
            "django_q.view_schedule",
        ),
    ),
    dashboard.Panel(
        name="system",
        title="Background jobs",
        template="integration_hub/panels/system.html",
        context=dashboard.system_panel_context,
        visible=roles.user_has_admin_role,
        order=900,
    ),
    dashboard.Panel(
        name="outcomes",
        title="Sync outcomes, last 30 days",
        template="integration_hub/panels/outcomes.html",
        context=dashboard.outcomes_panel_context,
        visible=lambda user: roles.user_has_role(user, roles.OWNER, *roles.ADMIN_ROLES),
        order=50,
    ),
    # Any signed-in user may hold API tokens (an Owner's app polls History with one).
    dashboard.NavLink(title="API tokens", url_name="api-tokens", order=90),
    # Every minute, so the dashboard can tell whether a cluster is processing tasks.
    ScheduleSpec(
        name="Cluster heartbeat",
        func="integration_hub.tasks.cluster_heartbeat",
        schedule_type=MINUTES,
        minutes=1,
    ),
    # DESIGN.md "Operations": clusters record a heartbeat after every task too, so a cluster
    # working through a long queue is seen while the scheduled heartbeat waits its turn.
    Receiver(
        post_execute,
        _cluster_heartbeat_after_task,
        dispatch_uid="integration_hub.cluster_heartbeat_after_task",
    ),
    # 03:15 every night: axes' logs of sign-ins older than 90 days go.
    ScheduleSpec(
        name="Sign-in logs prune",
        func="integration_hub.tasks.signin_logs_prune",
        schedule_type=CRON,
        cron="15 3 * * *",
    ),
    # DESIGN.md "REST API": lockouts are recorded in the audit trail.
    Receiver(
        user_locked_out, _signin_lockout_audit, dispatch_uid="integration_hub.signin_lockout_audit"
    ),
    Receiver(
        post_migrate,
        _schedules_ensure_after_migrate,
        dispatch_uid="integration_hub.schedules_ensure",
        sender_app="integration_hub",
    ),
    Receiver(
        post_migrate,
        _role_groups_sync_after_migrate,
        dispatch_uid="integration_hub.role_groups_sync_permissions",
    ),
    # Log lines carry the request id until the response is closed (integration_hub/logs.py).
    Receiver(
        request_finished, logs.request_context_clear, dispatch_uid="integration_hub.logs.request"
    ),
    # A task's lines carry its id: set and cleared in the worker process that runs it
    # (django-q2 sends post_execute from the monitor process, so it cannot clear it).
    Receiver(pre_execute, logs.task_context_set, dispatch_uid="integration_hub.logs.task_set"),
    Receiver(
        post_execute_in_worker,
        logs.task_context_clear,
        dispatch_uid="integration_hub.logs.task_clear",
    ),
    DemoStep(name="records", run=_demo_records, order=10),
    OUTBOUND_REQUESTS,
    OUTBOUND_SECONDS,
    MetricsCollector(name="clusters", collect=clusters_last_seen_collect),
    # A worker's counts are written after each task (in the worker; post_execute itself is
    # sent by the cluster's monitor process): a recycled worker exits without atexit.
    Receiver(
        post_execute_in_worker,
        metrics_flush_after_task,
        dispatch_uid="integration_hub.metrics_flush_in_worker",
    ),
    Receiver(post_execute, metrics_flush_after_task, dispatch_uid="integration_hub.metrics_flush"),
]
