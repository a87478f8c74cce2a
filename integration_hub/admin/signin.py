"""axes' records of sign-ins in the admin (AXES_ENABLE_ADMIN is off: registered here), seen
by those who hold their permissions: System Admin and superusers. A System Admin lifts a
lockout by deleting its attempt rows, through the service that audits it."""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from integration_hub.admin.base import ReadOnlyAdmin
from integration_hub.services.signin import signin_lockouts_lift


@admin.register(AccessAttempt)
class SigninAttemptAdmin(AccessAttemptAdmin):
    # Not axes' "Clean up expired attempts": it skips the audited lift, and expired rows are
    # cleaned at every sign-in and by the nightly prune anyway.
    actions = []

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        signin_lockouts_lift(
            attempts=AccessAttempt.objects.filter(pk=obj.pk), acting_user=request.user
        )

    def delete_queryset(self, request, queryset):
        signin_lockouts_lift(attempts=queryset, acting_user=request.user)


@admin.register(AccessLog)
class SigninLogAdmin(ReadOnlyAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class SigninFailureLogAdmin(ReadOnlyAdmin, AccessFailureLogAdmin):
    pass
