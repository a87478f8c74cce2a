"""Sign-in throttling (DESIGN.md "REST API"): after 10 failures within 15 minutes, that
username from that address is refused (429, with a page saying when to try again) for 15
minutes, the right password included; other users, other addresses and token callers are
unaffected; lockouts are audited and a System Admin lifts them."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse

from integration_hub import roles
from integration_hub.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-1234"
HERE = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def clock(time_machine):
    """Time stands at 08:16:00 UTC until shifted."""
    time_machine.move_to(datetime(2026, 3, 2, 8, 16, tzinfo=UTC), tick=False)
    return time_machine


@pytest.fixture
def ada(make_user):
    return make_user(roles.OWNER, username="ada")


def sign_in(client, username, password=PASSWORD, *, path="/login/", address=HERE):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username, times, *, path="/login/", address=HERE):
    for _ in range(times):
        response = sign_in(client, username, WRONG, path=path, address=address)
    return response


def test_nine_failures_still_let_the_right_password_in(client, clock, ada):
    assert fail(client, "ada", 9).status_code == 200
    assert sign_in(client, "ada").status_code == 302


def test_the_tenth_failure_locks_the_username_out_the_right_password_included(client, clock, ada):
    fail(client, "ada", 9)
    assert fail(client, "ada", 1).status_code == 429

    response = sign_in(client, "ada")

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    page = response.content.decode()
    assert "<h1>Too many failed sign-ins</h1>" in page
    assert "Try again after" in page
    assert "08:31 UTC" in page
    assert "in 15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_the_admin_sign_in_is_locked_out_the_same_way(client, clock, make_user):
    make_user(roles.SYSTEM_ADMIN, username="root", is_staff=True)
    fail(client, "root", 10, path="/admin/login/")

    response = sign_in(client, "root", path="/admin/login/")

    assert response.status_code == 429
    assert "Try again after" in response.content.decode()
    assert "08:31 UTC" in response.content.decode()


def test_failures_on_both_sign_in_pages_add_up(client, clock, ada):
    fail(client, "ada", 5, path="/admin/login/")
    fail(client, "ada", 5)

    assert sign_in(client, "ada").status_code == 429


def test_another_username_from_the_same_address_signs_in(client, clock, ada, make_user):
    make_user(roles.OWNER, username="grace")
    fail(client, "ada", 10)

    assert sign_in(client, "grace").status_code == 302


def test_the_same_username_from_another_address_signs_in(client, clock, ada):
    fail(client, "ada", 10)

    assert sign_in(client, "ada", address=ELSEWHERE).status_code == 302
    client.logout()
    assert sign_in(client, "ada", address=HERE).status_code == 429


def test_a_token_caller_of_a_locked_out_user_is_unaffected(client, clock, ada, api_as):
    fail(client, "ada", 10)

    response = api_as(ada).get("/api/v1/integrations/", REMOTE_ADDR=HERE)

    assert response.status_code == 200


def test_after_the_cool_off_the_right_password_works(client, clock, ada):
    fail(client, "ada", 10)
    clock.shift(timedelta(minutes=14, seconds=59))
    assert sign_in(client, "ada").status_code == 429

    clock.shift(timedelta(seconds=2))

    assert sign_in(client, "ada").status_code == 302


def test_attempts_during_a_lockout_do_not_extend_it(client, clock, ada):
    fail(client, "ada", 10)
    clock.shift(timedelta(minutes=10))
    response = fail(client, "ada", 3)
    assert response.status_code == 429
    assert "08:31 UTC" in response.content.decode()
    assert response["Retry-After"] == "300"

    clock.shift(timedelta(minutes=5, seconds=1))

    assert sign_in(client, "ada").status_code == 302


def test_failures_older_than_fifteen_minutes_are_forgotten(client, clock, ada):
    fail(client, "ada", 9)
    clock.shift(timedelta(minutes=16))
    assert fail(client, "ada", 1).status_code == 200

    assert sign_in(client, "ada").status_code == 302


def test_only_the_failures_within_fifteen_minutes_count_not_every_one_since_the_first(
    client, clock, ada
):
    fail(client, "ada", 5)
    clock.shift(timedelta(minutes=10))
    fail(client, "ada", 4)
    clock.shift(timedelta(minutes=6))

    # 08:32: the five of 08:16 have gone; four of 08:26 and this one remain.
    assert fail(client, "ada", 1).status_code == 200
    assert sign_in(client, "ada").status_code == 302


def test_ten_failures_spread_over_fourteen_minutes_lock_out(client, clock, ada):
    fail(client, "ada", 5)
    clock.shift(timedelta(minutes=14))

    assert fail(client, "ada", 5).status_code == 429
    assert "08:45 UTC" in sign_in(client, "ada").content.decode()


def test_a_success_starts_the_count_again(client, clock, ada):
    fail(client, "ada", 9)
    assert sign_in(client, "ada").status_code == 302
    client.logout()

    assert fail(client, "ada", 9).status_code == 200
    assert sign_in(client, "ada").status_code == 302


def test_the_lockout_is_in_the_audit_trail_once_without_the_password(client, clock, ada):
    fail(client, "ada", 10)
    fail(client, "ada", 2)
    sign_in(client, "ada")

    entries = AuditEntry.objects.filter(action="signin.locked_out")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.target == "ada"
    assert entry.actor_name == "system"
    assert entry.details["ipAddress"] == HERE
    assert entry.details["path"] == "/login/"
    assert entry.details["lockedUntil"].startswith("2026-03-02T08:31:00")
    assert WRONG not in str(entry.details)
    assert PASSWORD not in str(entry.details)


def test_axes_reset_username_lifts_the_lockout_and_audits_it(client, clock, ada):
    fail(client, "ada", 10)
    out = io.StringIO()

    call_command("axes_reset_username", "ada", stdout=out)

    assert out.getvalue() == "1 attempts removed.\n"
    assert sign_in(client, "ada").status_code == 302
    lifted = AuditEntry.objects.get(action="signin.lockout_lifted")
    assert (lifted.target, lifted.actor_name, lifted.details) == (
        "ada",
        "shell",
        {"ipAddress": HERE},
    )


def test_one_failure_after_a_lift_does_not_lock_out_again(client, clock, ada):
    fail(client, "ada", 10)
    call_command("axes_reset_username", "ada", stdout=io.StringIO())

    assert fail(client, "ada", 1).status_code == 200
    assert sign_in(client, "ada").status_code == 302


def test_a_system_admin_deletes_the_attempt_in_the_admin_and_the_user_signs_in(
    client, clock, ada, system_admin
):
    fail(client, "ada", 10)
    attempt = AccessAttempt.objects.get(username="ada")
    admin = type(client)()
    admin.force_login(system_admin)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "ada" in listing.content.decode()

    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "ada").status_code == 302
    lifted = AuditEntry.objects.get(action="signin.lockout_lifted")
    assert (lifted.target, lifted.actor) == ("ada", system_admin)


def test_deleting_attempts_in_bulk_in_the_admin_lifts_each_lockout(
    client, clock, ada, make_user, system_admin
):
    make_user(roles.OWNER, username="grace")
    fail(client, "ada", 10)
    fail(client, "grace", 10, address=ELSEWHERE)
    admin = type(client)()
    admin.force_login(system_admin)

    response = admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert sign_in(client, "ada").status_code == 302
    assert sign_in(client, "grace", address=ELSEWHERE).status_code == 302
    lifted = AuditEntry.objects.filter(action="signin.lockout_lifted")
    assert sorted(lifted.values_list("target", flat=True)) == ["ada", "grace"]


@pytest.mark.parametrize("role", [roles.SYSTEM_CONFIG, roles.JOB_ADMIN])
def test_other_admin_roles_neither_see_nor_delete_sign_in_attempts(
    client, clock, ada, make_user, role
):
    fail(client, "ada", 10)
    attempt = AccessAttempt.objects.get(username="ada")
    staff = type(client)()
    staff.force_login(make_user(role, is_staff=True))

    index = staff.get(reverse("admin:index")).content.decode()
    pages = [
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:axes_accesslog_changelist"),
        reverse("admin:axes_accessfailurelog_changelist"),
    ]

    assert "Access attempts" not in index
    assert "access failures" not in index.lower()
    for page in pages:
        assert staff.get(page).status_code == 403
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_sign_in_logs_are_read_only_even_for_a_system_admin(client, clock, ada, system_admin):
    fail(client, "ada", 1)
    admin = type(client)()
    admin.force_login(system_admin)

    page = admin.get(reverse("admin:axes_accessfailurelog_changelist"))

    assert page.status_code == 200
    assert "ada" in page.content.decode()
    assert 'name="action"' not in page.content.decode()


def test_the_nightly_prune_drops_failures_after_a_day_and_sign_ins_after_ninety_days(
    client, clock, ada
):
    from axes.models import AccessFailureLog, AccessLog

    from integration_hub.tasks import signin_logs_prune

    fail(client, "ada", 1)
    sign_in(client, "ada")
    clock.shift(timedelta(hours=23))
    assert signin_logs_prune() == 0
    clock.shift(timedelta(hours=2))
    assert signin_logs_prune() == 1
    assert not AccessFailureLog.objects.exists()
    assert AccessLog.objects.exists()
    clock.shift(timedelta(days=90))

    assert signin_logs_prune() == 1
    assert not AccessLog.objects.exists()


def test_a_flood_past_the_failure_log_cap_still_locks_the_username_out(
    client, clock, ada, settings
):
    """Past the per-username cap the oldest failures go, never the newest: otherwise each new
    failure would be deleted as it is written and never count."""
    from axes.models import AccessFailureLog

    settings.AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 15
    for n in range(20):  # an old flood from many addresses fills the log past the cap
        fail(client, "ada", 1, address=f"192.0.2.{n + 1}")
    clock.shift(timedelta(hours=1))

    assert fail(client, "ada", 10).status_code == 429
    assert sign_in(client, "ada").status_code == 429
    assert AccessFailureLog.objects.filter(username="ada").count() == 15


def test_deleting_one_browsers_row_lifts_the_whole_lockout(client, clock, ada, system_admin):
    """A lockout gathered from two browsers has a row for each: deleting either lifts it."""
    for agent in ("Firefox", "Chromium"):
        for _ in range(5):
            client.post(
                "/login/",
                {"username": "ada", "password": WRONG},
                REMOTE_ADDR=HERE,
                HTTP_USER_AGENT=agent,
            )
    assert sign_in(client, "ada").status_code == 429
    assert AccessAttempt.objects.filter(username="ada").count() == 2
    one = AccessAttempt.objects.filter(username="ada").first()
    admin = type(client)()
    admin.force_login(system_admin)

    admin.post(reverse("admin:axes_accessattempt_delete", args=[one.pk]), {"post": "yes"})

    assert not AccessAttempt.objects.filter(username="ada").exists()
    assert sign_in(client, "ada").status_code == 302
    assert AuditEntry.objects.filter(action="signin.lockout_lifted", target="ada").count() == 1
