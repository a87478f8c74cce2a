import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from integration_hub import roles
from integration_hub.models import AuditEntry, SubscriberOwner
from integration_hub.selectors import default_subscriber
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_four_roles_exist_as_groups_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)


def test_the_default_subscriber_is_the_first_one_created():
    first = default_subscriber()
    assert first is not None
    later = SubscriberFactory()
    assert later.pk > first.pk
    assert default_subscriber() == first


def _perms(role):
    return set(
        Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename")
    )


def test_each_role_group_holds_the_permissions_of_its_role():
    admin = _perms(roles.SYSTEM_ADMIN)
    config = _perms(roles.SYSTEM_CONFIG)
    job = _perms(roles.JOB_ADMIN)
    owner = _perms(roles.OWNER)
    assert ("integration_hub", "change_credential") in admin
    assert ("integration_hub", "change_user") in admin
    assert ("integration_hub", "change_integration") in config
    assert ("integration_hub", "change_systemsetting") in config
    assert ("integration_hub", "change_credential") not in config
    assert ("integration_hub", "add_credential") not in config
    assert ("integration_hub", "run_jobs") in job
    assert ("integration_hub", "change_integration") not in job
    assert owner == set()


def test_granting_an_admin_role_makes_the_user_staff_and_revoking_the_last_undoes_it(capsys):
    user = UserFactory(username="ops")
    call_command("roles", "grant", "ops", "Job Admin")
    call_command("roles", "grant", "ops", "System Config")
    user.refresh_from_db()
    assert user.is_staff
    assert set(user.groups.values_list("name", flat=True)) == {"Job Admin", "System Config"}

    call_command("roles", "revoke", "ops", "Job Admin")
    user.refresh_from_db()
    assert user.is_staff, "still System Config"
    call_command("roles", "revoke", "ops", "System Config")
    user.refresh_from_db()
    assert not user.is_staff
    assert "ops: roles none; staff no" in capsys.readouterr().out
    assert AuditEntry.objects.filter(action="role.granted", target="ops").count() == 2


def test_owner_is_held_per_subscriber_and_does_not_make_staff():
    user = UserFactory(username="shopkeeper")
    other = SubscriberFactory()
    call_command("roles", "grant", "shopkeeper", "Owner")
    call_command("roles", "grant", "shopkeeper", "Owner", "--subscriber", str(other.pk))
    user.refresh_from_db()
    assert not user.is_staff
    owned = set(SubscriberOwner.objects.filter(user=user).values_list("subscriber_id", flat=True))
    assert owned == {default_subscriber().pk, other.pk}

    call_command("roles", "revoke", "shopkeeper", "Owner", "--subscriber", str(other.pk))
    assert roles.OWNER in set(user.groups.values_list("name", flat=True)), "still owns the default"
    call_command("roles", "revoke", "shopkeeper", "Owner")
    assert not SubscriberOwner.objects.filter(user=user).exists()
    assert not user.groups.filter(name=roles.OWNER).exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["grant", "nobody", "Owner"], "No user named 'nobody'"),
        (["grant", "someone", "Wizard"], "Unknown role 'Wizard'"),
        (["grant", "someone", "Owner", "--subscriber", "999999"], "No subscriber with id 999999"),
        (["grant", "someone", "Job Admin", "--subscriber", "1"], "not held per subscriber"),
    ],
)
def test_roles_command_names_what_is_wrong(argv, message):
    UserFactory(username="someone")
    with pytest.raises(CommandError, match=message):
        call_command("roles", *argv)


def test_superuser_may_do_everything_and_sample_message_needs_admin_or_config_plus_job(make_user):
    superuser = UserFactory(is_superuser=True)
    assert roles.user_may_save_secrets(superuser)
    assert roles.user_may_send_sample_message(superuser)
    assert roles.user_may_send_sample_message(make_user(roles.SYSTEM_ADMIN))
    assert roles.user_may_send_sample_message(make_user(roles.SYSTEM_CONFIG, roles.JOB_ADMIN))
    assert not roles.user_may_send_sample_message(make_user(roles.SYSTEM_CONFIG))
    assert not roles.user_may_send_sample_message(make_user(roles.JOB_ADMIN))
    assert not roles.user_may_save_secrets(make_user(roles.SYSTEM_CONFIG))
