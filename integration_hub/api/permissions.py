"""Permissions for the REST API. The default is DenyAll: each view names what it needs."""

from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from integration_hub import roles


class DenyAll(BasePermission):
    """The default: a view that forgot to declare a permission answers to nobody."""

    def has_permission(self, request, view):
        return False


class IsSystemAdmin(IsAuthenticated):
    def has_permission(self, request, view):
        return roles.user_has_role(request.user, roles.SYSTEM_ADMIN)


class IsSystemAdminOrConfig(IsAuthenticated):
    def has_permission(self, request, view):
        return roles.user_has_role(request.user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG)


class IsSystemAdminOrConfigOrReadOnly(IsAuthenticated):
    """Anyone signed in may read (the view narrows what they see); System Admin / System
    Config may write."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        return roles.user_has_role(request.user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG)
