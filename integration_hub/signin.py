"""Sign-in throttling on django-axes (DESIGN.md "REST API"): after 10 failures within 15
minutes, that username from that client address is refused with a 429 page for 15 minutes,
the right password included. Settings: AXES_* in settings.py.

Here: the handler that counts failures within the window, the reads of a lockout's state,
the 429 page, and the receiver that writes a lockout into the audit trail.
"""

import math
from datetime import datetime, timedelta

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


class SigninAttemptHandler(AxesDatabaseHandler):
    """axes' database handler, counting only the failures of the last AXES_COOLOFF_TIME.

    axes forgets failures only after a cool-off with none at all, so that slow guessing (one
    failure every ten minutes) would add up to a lockout. Every failure is also kept in
    AccessFailureLog: before a new one is counted, each attempt row of that username and
    address is brought down to what the log holds for it within the window. The row counts
    the failures since it was created (again after a lift or a success), the log those within
    the window; both are the latest failures, so the smaller count is those in both.
    """

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # An attempt refused during a lockout is not counted (AXES_RESET_COOL_OFF_...=False).
        if request is not None and not request.axes_locked_out:
            self._attempts_recount(request, credentials)
        super().user_login_failed(sender, credentials, request, **kwargs)

    def _attempts_recount(self, request: HttpRequest, credentials: dict | None) -> None:
        threshold = get_cool_off_threshold(request)
        for attempts in self.filter_user_attempts(request, credentials):
            for attempt in attempts.filter(attempt_time__gt=threshold):
                recent = AccessFailureLog.objects.filter(
                    username=attempt.username,
                    ip_address=attempt.ip_address,
                    user_agent=attempt.user_agent,
                    attempt_time__gt=threshold,
                ).count()
                if not recent:
                    attempt.delete()
                    continue
                # Every row of the pair moves to this failure, so that a lockout reached
                # across several user agents lasts its whole cool-off.
                AccessAttempt.objects.filter(pk=attempt.pk).update(
                    failures_since_start=min(attempt.failures_since_start, recent),
                    attempt_time=request.axes_attempt_time,
                )

    def remove_out_of_limit_failure_logs(self, *, username: str, limit: int | None = None) -> int:
        """Keep at most AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT failures of a username, deleting
        the OLDEST. axes deletes the first rows of its log, which is ordered newest first: past
        the cap each new failure would go as soon as it is written, the count above would
        find none, and a flood of failures would switch the lockout off for that username."""
        if limit is None:
            limit = settings.AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT
        failures = AccessFailureLog.objects.filter(username=username)
        excess = failures.count() - limit
        if excess <= 0:
            return 0
        oldest = list(failures.order_by("attempt_time", "pk").values_list("pk", flat=True)[:excess])
        deleted, _ = AccessFailureLog.objects.filter(pk__in=oldest).delete()
        return deleted


def signin_locked_until(*, username: str | None, ip_address: str | None) -> datetime | None:
    """When the lockout of `username` from `ip_address` lifts; None when there is none."""
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.filter(
        username=username, ip_address=ip_address, attempt_time__gt=timezone.now() - cool_off
    ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    if (attempts["failures"] or 0) < settings.AXES_FAILURE_LIMIT:
        return None
    return attempts["last"] + cool_off


def signin_lockouts_in_force(attempts: QuerySet[AccessAttempt]) -> set[tuple[str, str]]:
    """The (username, address) pairs among `attempts` that are locked out now."""
    pairs = set(attempts.values_list("username", "ip_address"))
    return {
        (username, address)
        for username, address in pairs
        if signin_locked_until(username=username, ip_address=address)
    }


def signin_lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the 429 page, saying when to try again (Retry-After too)."""
    username = get_client_username(request, credentials)
    now = timezone.now()
    until = signin_locked_until(username=username, ip_address=request.axes_ip_address)
    until = until or now + get_cool_off()
    seconds = max(1, math.ceil((until - now).total_seconds()))
    # Shown to the minute, rounded up: "after 08:31" must not come before the lock lifts.
    shown = until.replace(second=0, microsecond=0)
    if shown < until:
        shown += timedelta(minutes=1)
    response = render(
        request,
        "registration/locked_out.html",
        {
            "username": username or "",
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cool_off_minutes": int(get_cool_off().total_seconds() // 60),
            "until": shown,
            "minutes": math.ceil(seconds / 60),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(seconds)
    return response


def signin_lockout_audit(sender, request, username, ip_address, **kwargs) -> None:
    """axes' user_locked_out: a new lockout goes into the audit trail. axes sends it again
    for each attempt refused during the lockout, for which nothing was counted."""
    from integration_hub.services.signin import signin_lockout_record

    if getattr(request, "axes_failures_since_start", None) is None:
        return
    signin_lockout_record(
        username=username or "",
        ip_address=ip_address,
        path=request.path,
        locked_until=signin_locked_until(username=username, ip_address=ip_address),
    )
