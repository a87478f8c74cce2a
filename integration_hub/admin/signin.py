"""axes' records of sign-ins in the admin (AXES_ENABLE_ADMIN is off: registered here), seen
by those who hold their permissions: System Admin and superusers. A System Admin lifts a
lockout by deleting its attempt rows, through the service that audits it."""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.db.models import Q

from integration_hub.admin.base import ReadOnlyAdmin
from integration_hub.services.signin import signin_lockouts_lift


@admin.register(AccessAttempt)
class SigninAttemptAdmin(AccessAttemptAdmin):
    # Not axes' "Clean up expired attempts": it skips the audited lift, and expired rows are
    # cleaned at every sign-in and by the nightly prune anyway.
    actions = []

    def has_change_permission(self, request, obj=None):
        return False

    # A lockout can be spread over several rows (one per browser): deleting one lifts its
    # whole username-and-address pair, so that what the admin deletes is really lifted.
    def delete_model(self, request, obj):
        self.delete_queryset(request, AccessAttempt.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        pairs = Q()
        for username, ip_address in queryset.values_list("username", "ip_address").distinct():
            pairs |= Q(username=username, ip_address=ip_address)
        signin_lockouts_lift(
            attempts=AccessAttempt.objects.filter(pairs) if pairs else queryset.none(),
            acting_user=request.user,
        )


@admin.register(AccessLog)
class SigninLogAdmin(ReadOnlyAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class SigninFailureLogAdmin(ReadOnlyAdmin, AccessFailureLogAdmin):
    pass
