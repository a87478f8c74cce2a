from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from integration_hub.dashboard import panels_for
from integration_hub.selectors import subscribers_owned_by


@login_required
def dashboard(request):
    return render(
        request,
        "integration_hub/dashboard.html",
        {"panels": panels_for(request), "subscribers": subscribers_owned_by(request.user)},
    )
