from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from integration_hub.models import Subscriber, SubscriberOwner, User
from integration_hub.roles import ADMIN_ROLES, ALL_PERMISSIONS, OWNER, ROLES, role_permissions

from .audit import audit_record


def _role_group(role: str) -> Group:
    if role not in ROLES:
        raise ValidationError({"role": [f"Unknown role {role!r}; roles are {', '.join(ROLES)}."]})
    return Group.objects.get_or_create(name=role)[0]


@transaction.atomic
def role_grant(
    *, user: User, role: str, subscriber: Subscriber | None = None, acting_user=None
) -> User:
    """Give `user` a role. Owner is held per subscriber (default: the default subscriber);
    an admin role also makes the user staff so that they reach the admin."""
    group = _role_group(role)
    user.groups.add(group)
    details = {"role": role}
    if role == OWNER:
        subscriber = subscriber or Subscriber.objects.order_by("id").first()
        if subscriber is None:
            raise ValidationError({"subscriber": ["No subscriber exists yet."]})
        SubscriberOwner.objects.get_or_create(user=user, subscriber=subscriber)
        details["subscriberId"] = subscriber.pk
    elif subscriber is not None:
        raise ValidationError({"subscriber": [f"{role} is not held per subscriber."]})
    if role in ADMIN_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_record(
        actor=acting_user, action="role.granted", target=user.get_username(), details=details
    )
    user.__dict__.pop("_hub_role_names", None)
    return user


@transaction.atomic
def role_revoke(
    *, user: User, role: str, subscriber: Subscriber | None = None, acting_user=None
) -> User:
    """Take a role away. For Owner with a subscriber, only that ownership goes (the role goes
    with the last one). A user left with no admin role stops being staff (unless superuser)."""
    group = _role_group(role)
    details = {"role": role}
    if role == OWNER:
        owned = SubscriberOwner.objects.filter(user=user)
        if subscriber is not None:
            owned = owned.filter(subscriber=subscriber)
            details["subscriberId"] = subscriber.pk
        owned.delete()
        if not SubscriberOwner.objects.filter(user=user).exists():
            user.groups.remove(group)
    else:
        user.groups.remove(group)
    still_admin = user.groups.filter(name__in=ADMIN_ROLES).exists()
    if user.is_staff and not still_admin and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    audit_record(
        actor=acting_user, action="role.revoked", target=user.get_username(), details=details
    )
    user.__dict__.pop("_hub_role_names", None)
    return user


def role_groups_sync_permissions() -> None:
    """Give each role group exactly the permissions declared for it (run after migrate)."""
    every = Permission.objects.all()
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in every.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role in ROLES:
        group = Group.objects.get_or_create(name=role)[0]
        declared = role_permissions(role)
        if ALL_PERMISSIONS in declared:
            wanted = list(by_name.values())
        else:
            wanted = [by_name[name] for name in declared if name in by_name]
        group.permissions.set(wanted)
