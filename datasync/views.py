"""The Data Sync page of the web UI (DESIGN.md, "Web UI": Data Sync is global, so only admin
roles see it): queue depths, the lanes (busy, queued, who holds which), recent runs with
their errors and throughput, dead-lettered records with replay, Run now (Job Admin) and Send
Sample Message (System Admin, or System Config together with Job Admin). Settings and
credentials stay on the admin's Data Sync page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from integration_hub import roles
from integration_hub.services.jobs import job_enqueue

from .selectors import dead_letters, lane_overview, queue_depths, runs_recent, user_may_run
from .services.replay import dead_letters_replay
from .services.sample import sample_message_send

RUNS_SHOWN = 20


def _page(request, *, sample=None, status: int = 200):
    user = request.user
    return render(
        request,
        "datasync/page.html",
        {
            "depths": queue_depths(),
            "lanes": lane_overview(),
            "runs": runs_recent(limit=RUNS_SHOWN),
            "dead_letters": dead_letters(),
            "may_run": user_may_run(user),
            "may_send_sample": roles.user_may_send_sample_message(user),
            "sample": sample,
        },
        status=status,
    )


def _admin_roles_only(request) -> None:
    if not roles.user_has_admin_role(request.user):
        raise PermissionDenied("Data Sync is for System Admin, System Config and Job Admin.")


@login_required
def datasync_page(request):
    _admin_roles_only(request)
    return _page(request)


@login_required
@require_POST
def datasync_run_now(request):
    _admin_roles_only(request)
    if not user_may_run(request.user):
        raise PermissionDenied("Run now is for Job Admin.")
    job_enqueue(
        func="datasync.tasks.datasync_run_now",
        description="Data Sync (Run now)",
        acting_user=request.user,
    )
    messages.success(request, "Data Sync run queued: it appears under Recent runs when it ends.")
    return redirect("datasync-page")


@login_required
@require_POST
def datasync_sample(request):
    _admin_roles_only(request)
    if not roles.user_may_send_sample_message(request.user):
        raise PermissionDenied(
            "Send Sample Message is for System Admin, or System Config together with Job Admin."
        )
    return _page(request, sample=sample_message_send(acting_user=request.user))


@login_required
@require_POST
def datasync_replay(request):
    _admin_roles_only(request)
    if not user_may_run(request.user):
        raise PermissionDenied("Replay is for Job Admin.")
    try:
        record_id = int(request.POST.get("record", ""))
    except ValueError:
        messages.error(request, "Choose a dead-lettered record to replay.")
        return redirect("datasync-page")
    replayed = dead_letters_replay(record_ids=[record_id], acting_user=request.user)
    messages.success(
        request,
        f"{replayed} record{'s' if replayed != 1 else ''} back in the queue, in their order: "
        "the next run sends them.",
    )
    return redirect("datasync-page")
