"""Writes of sign-in throttling (integration_hub/signin.py): a lockout into the audit trail,
lifting lockouts, and pruning axes' logs of sign-ins."""

from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from integration_hub.models import AuditEntry
from integration_hub.signin import signin_locked_until, signin_lockouts_in_force

from .audit import audit_record


def signin_lockout_record(
    *, username: str, ip_address: str | None, path: str, locked_until: datetime | None
) -> AuditEntry:
    """A username was locked out at an address: into the audit trail (never the password)."""
    details = {"ipAddress": ip_address, "path": path}
    if locked_until is not None:
        details["lockedUntil"] = locked_until.isoformat()
    return audit_record(
        actor=None,
        actor_name="system",
        action="signin.locked_out",
        target=username,
        details=details,
    )


@transaction.atomic
def signin_lockouts_lift(*, attempts: QuerySet[AccessAttempt], acting_user=None) -> int:
    """Delete `attempts` (axes' rows of failed sign-ins), returning how many went; each
    lockout this lifts goes into the audit trail. A System Admin does it in the admin, the
    operator with `manage.py axes_reset_username`."""
    locked = signin_lockouts_in_force(attempts)
    _total, deleted = attempts.delete()
    for username, ip_address in sorted(locked, key=str):
        if signin_locked_until(username=username, ip_address=ip_address) is None:
            audit_record(
                actor=acting_user,
                action="signin.lockout_lifted",
                target=username or "",
                details={"ipAddress": ip_address},
            )
    return deleted.get(AccessAttempt._meta.label, 0)


def signin_logs_prune(
    *,
    older_than: timedelta = timedelta(days=90),
    failures_older_than: timedelta = timedelta(days=1),
) -> int:
    """Delete axes' log of sign-ins older than `older_than` and its log of single failures
    older than `failures_older_than` (run nightly). The failure log grows with every failure,
    whatever username it names, and the lockout counts only its last 15 minutes."""
    now = timezone.now()
    failures, _ = AccessFailureLog.objects.filter(
        attempt_time__lt=now - failures_older_than
    ).delete()
    sign_ins, _ = AccessLog.objects.filter(attempt_time__lt=now - older_than).delete()
    return failures + sign_ins
