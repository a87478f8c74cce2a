from django.apps import AppConfig


def connections_panel_context(request) -> dict:
    from .models import SyncJob
    from .selectors import connections_with_last_sync, notification_list, queue_position

    # The queue position first: events after it are polled (see the connection page).
    queue_id, last_event_id = queue_position(user=request.user)
    connections = connections_with_last_sync(user=request.user)
    for connection in connections:
        job = connection.last_job
        connection.is_syncing = bool(job and job.status in SyncJob.ACTIVE)
    return {
        "connections": connections,
        "queue_id": queue_id,
        "last_event_id": last_event_id,
        "notifications": list(notification_list(user=request.user, unread_only=True)[:5]),
    }


def _sync_outcomes(user, since) -> dict:
    from integration_hub.dashboard import outcome_counts

    from .models import SyncJob

    jobs = SyncJob.objects.filter(connection__user=user, finished_at__gte=since)
    return outcome_counts(jobs, succeeded=SyncJob.Status.SUCCESS, failed=SyncJob.Status.ERROR)


def _sync_on_sign_in(sender, request, user, **kwargs) -> None:
    from .services.triggers import sync_on_sign_in

    sync_on_sign_in(user=user)


class SyncingConfig(AppConfig):
    """Inbound sync: connections, sync jobs, event queues, mirrored partner data."""

    name = "syncing"
    verbose_name = "Connections and inbound sync"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from integration_hub import dashboard, roles
        from integration_hub.schedules import CRON, MINUTES, ScheduleSpec, schedule_declare
        from integration_hub.system_settings import settings_declare

        from .settings import SYNCING_SETTINGS

        settings_declare(*SYNCING_SETTINGS)
        # Reference 000: account data is fetched at each sign-in.
        user_logged_in.connect(_sync_on_sign_in, dispatch_uid="syncing.sync_on_sign_in")

        dashboard.panel_register(
            dashboard.Panel(
                name="connections",
                title="Connections",
                template="syncing/panels/connections.html",
                context=connections_panel_context,
                # Connections are a user's own: Owners, and anyone who has made one.
                visible=lambda user: (
                    roles.user_has_role(user, roles.OWNER) or user.connections.exists()
                ),
                order=10,
            )
        )
        dashboard.outcome_source_register(
            dashboard.OutcomeSource(name="connections", counts=_sync_outcomes)
        )
        dashboard.nav_link_register(
            dashboard.NavLink(title="Notifications", url_name="notifications", order=10)
        )
        # Every 5 minutes: fail syncs stuck running or never picked up (SYNC_ALL_ERROR).
        schedule_declare(
            ScheduleSpec(
                name="syncing.watchdog",
                func="syncing.tasks.sync_watchdog_task",
                schedule_type=MINUTES,
                minutes=5,
            )
        )
        for spec in (
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
        ):
            schedule_declare(spec)
        view = [
            f"syncing.view_{model}"
            for model in ("connection", "syncjob", "verifiedidentity", "notification")
        ]
        roles.role_permissions_declare(roles.JOB_ADMIN, *view)
        roles.role_permissions_declare(roles.SYSTEM_CONFIG, *view)
