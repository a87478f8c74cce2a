"""The four roles of DESIGN.md ("Roles"), as Django groups, and what each may do.

Groups are created by a migration; their permissions are assigned after every migrate
(post_migrate), when the permission rows of every app exist. Pipelines add permissions for
their own models with `role_permissions_declare` in their AppConfig.ready.
"""

from collections import defaultdict

SYSTEM_ADMIN = "System Admin"
SYSTEM_CONFIG = "System Config"
JOB_ADMIN = "Job Admin"
OWNER = "Owner"

ROLES = (SYSTEM_ADMIN, SYSTEM_CONFIG, JOB_ADMIN, OWNER)
# Holding one of these makes a user staff, so they reach the admin.
ADMIN_ROLES = frozenset({SYSTEM_ADMIN, SYSTEM_CONFIG, JOB_ADMIN})

ALL_PERMISSIONS = "*"

_declared: dict[str, set[str]] = defaultdict(set)


def role_permissions_declare(role: str, *permissions: str) -> None:
    """Declare permissions ("app_label.codename", or "*" for all) that a role holds."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}")
    _declared[role].update(permissions)


def role_permissions(role: str) -> frozenset[str]:
    return frozenset(_declared[role])


def user_roles(user) -> frozenset[str]:
    """The role names a user holds, read once per user object."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_hub_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._hub_role_names = cached
    return cached


def user_has_role(user, *roles: str) -> bool:
    """True when the user is a superuser or holds any of `roles`."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return bool(user_roles(user) & set(roles))


def user_may_save_secrets(user) -> bool:
    return user_has_role(user, SYSTEM_ADMIN)


def user_may_send_sample_message(user) -> bool:
    """System Admin, or a user who is both System Config and Job Admin (reference 003)."""
    if user_has_role(user, SYSTEM_ADMIN):
        return True
    roles = user_roles(user)
    return SYSTEM_CONFIG in roles and JOB_ADMIN in roles


def user_has_admin_role(user) -> bool:
    return user_has_role(user, *ADMIN_ROLES)
