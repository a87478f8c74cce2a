"""The user's invoice notifications page, and marking one read."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from integration_hub.views import safe_next

from ..selectors import notification_list, notification_of
from ..services.notifications import notification_mark_read


@login_required
def notifications(request):
    return render(
        request,
        "syncing/notifications.html",
        {"notifications": list(notification_list(user=request.user)[:100])},
    )


@login_required
@require_POST
def notification_read(request, notification_id: int):
    notification = notification_of(user=request.user, notification_id=notification_id)
    notification_mark_read(notification=notification)
    return redirect(safe_next(request, "notifications"))
