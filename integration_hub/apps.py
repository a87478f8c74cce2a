from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationHubConfig(AppConfig):
    name = "integration_hub"
    verbose_name = "Integration Hub"

    def ready(self) -> None:
        from integration_hub import dashboard, roles, schedules, system_settings
        from integration_hub.services.roles import role_groups_sync_permissions

        system_settings.settings_declare(
            system_settings.SettingDefinition(
                key="OutboundTimeoutSeconds",
                kind=system_settings.SettingKind.INT,
                default=15,
                min_value=1,
                max_value=120,
                category="Outbound HTTP",
                help_text="Seconds an outbound call may take before it fails with a timeout.",
            ),
        )
        roles.role_permissions_declare(roles.SYSTEM_ADMIN, roles.ALL_PERMISSIONS)
        roles.role_permissions_declare(
            roles.SYSTEM_CONFIG,
            "integration_hub.view_integration",
            "integration_hub.add_integration",
            "integration_hub.change_integration",
            "integration_hub.delete_integration",
            "integration_hub.view_systemsetting",
            "integration_hub.change_systemsetting",
            "integration_hub.view_credential",
            "integration_hub.view_subscriber",
            "integration_hub.view_auditentry",
            "integration_hub.view_clusterheartbeat",
            # Core records (DESIGN.md "REST API": System Admin / System Config)
            *(
                f"integration_hub.{action}_{model}"
                for model in ("customer", "customernote", "segment", "customersegment")
                for action in ("view", "add", "change", "delete")
            ),
            "integration_hub.view_order",
            "integration_hub.add_order",
            "integration_hub.view_orderitem",
            "integration_hub.view_orderpayment",
        )
        roles.role_permissions_declare(
            roles.JOB_ADMIN,
            "integration_hub.run_jobs",
            "integration_hub.view_auditentry",
            "integration_hub.view_clusterheartbeat",
            "django_q.view_task",
            "django_q.view_success",
            "django_q.view_failure",
            "django_q.view_schedule",
        )
        dashboard.panel_register(
            dashboard.Panel(
                name="system",
                title="Background jobs",
                template="integration_hub/panels/system.html",
                context=dashboard.system_panel_context,
                visible=roles.user_has_admin_role,
                order=900,
            )
        )
        dashboard.panel_register(
            dashboard.Panel(
                name="outcomes",
                title="Sync outcomes, last 30 days",
                template="integration_hub/panels/outcomes.html",
                context=dashboard.outcomes_panel_context,
                visible=lambda user: roles.user_has_role(user, roles.OWNER, *roles.ADMIN_ROLES),
                order=50,
            )
        )
        # Every minute, so the dashboard can tell whether a cluster is processing tasks.
        schedules.schedule_declare(
            schedules.ScheduleSpec(
                name="Cluster heartbeat",
                func="integration_hub.tasks.cluster_heartbeat",
                schedule_type=schedules.MINUTES,
                minutes=1,
            )
        )
        post_migrate.connect(
            _after_migrate,
            sender=self,
            dispatch_uid="integration_hub.schedules_ensure",
        )
        post_migrate.connect(
            lambda **kwargs: role_groups_sync_permissions(),
            dispatch_uid="integration_hub.role_groups_sync_permissions",
            weak=False,
        )


def _after_migrate(**kwargs) -> None:
    from django.db import connections

    from integration_hub.schedules import schedules_ensure

    # Only once the django_q tables exist (they do after a full migrate).
    if (
        "django_q_schedule"
        in connections[kwargs.get("using", "default")].introspection.table_names()
    ):
        schedules_ensure()
