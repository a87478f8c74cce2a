"""The audit trail and cluster heartbeats in the admin: looked at, never edited."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django_q import admin as django_q_admin
from django_q.models import Failure, Success

from integration_hub.admin.base import ReadOnlyAdmin
from integration_hub.models import AuditEntry, ClusterHeartbeat
from integration_hub.services.jobs import job_enqueue


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "target")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)


@admin.register(ClusterHeartbeat)
class ClusterHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("cluster_name", "host", "seen_at")
    change_list_template = "admin/integration_hub/clusterheartbeat/change_list.html"

    def get_urls(self):
        check = path(
            "check-now/",
            self.admin_site.admin_view(self.check_now_view),
            name="integration_hub_clusterheartbeat_check_now",
        )
        return [check, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_run_jobs": _may_run_jobs(request.user)}
        return super().changelist_view(request, extra_context)

    def check_now_view(self, request):
        """Queue a heartbeat: if a cluster is up, its row updates within seconds."""
        if request.method != "POST" or not _may_run_jobs(request.user):
            raise PermissionDenied
        job_enqueue(
            func="integration_hub.tasks.cluster_heartbeat",
            description="Cluster heartbeat (checked from the admin)",
            acting_user=request.user,
        )
        messages.info(
            request, "Heartbeat queued: reload in a few seconds to see the cluster report."
        )
        return HttpResponseRedirect(reverse("admin:integration_hub_clusterheartbeat_changelist"))


def _may_run_jobs(user) -> bool:
    return user.has_perm("integration_hub.run_jobs")


class _ResubmitNeedsRunJobs:
    """django-q2's task admins offer "Resubmit selected tasks" to anyone who may see them;
    resubmitting runs a job now, so it needs what Run now needs."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not _may_run_jobs(request.user):
            actions.pop("resubmit_task", None)
        return actions


class SuccessAdmin(_ResubmitNeedsRunJobs, django_q_admin.TaskAdmin):
    pass


class FailureAdmin(_ResubmitNeedsRunJobs, django_q_admin.FailAdmin):
    pass


for _model, _model_admin in ((Success, SuccessAdmin), (Failure, FailureAdmin)):
    admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)
