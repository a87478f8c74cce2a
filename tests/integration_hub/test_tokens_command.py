"""`manage.py tokens create|list|revoke` (DESIGN.md, "REST API")."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integration_hub.models import ApiToken, AuditEntry
from integration_hub.services.api_tokens import api_token_create

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("tokens", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_token_alone_on_the_last_line_and_it_works(api_client, owner):
    output = _run("create", owner.username, "--name", "History poller")
    value = output.splitlines()[-1]
    assert value == value.strip()
    assert len(value) == 64
    assert "not shown again" in output
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.expiry) == (owner, "History poller", None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    assert api_client.get("/api/v1/notifications/").status_code == 200
    audit = AuditEntry.objects.get(action="api_token.created")
    assert audit.actor_name == "shell"
    assert value not in str(audit.details)


def test_create_with_an_expiry_sets_it_in_days(owner):
    _run("create", owner.username, "--expires", "30")
    token = ApiToken.objects.get()
    assert abs(token.expiry - token.created - timedelta(days=30)) < timedelta(minutes=1)
    assert token.name == "API token"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "nobody"], "No user named 'nobody'"),
        (["create", "{owner}", "--expires", "soon"], "whole number of days"),
        (["create", "{owner}", "--expires", "0"], "from 1 to 3650"),
        (["create", "{owner}", "--expires", "-3"], "from 1 to 3650"),
        (["create", "{owner}", "--name", " "], "Give the token a name"),
        (["list", "nobody"], "No user named 'nobody'"),
    ],
)
def test_errors_name_the_problem(owner, args, message):
    args = [arg.format(owner=owner.username) for arg in args]
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not ApiToken.objects.exists()


def test_list_shows_each_token_without_its_value(owner, system_admin):
    mine = api_token_create(user=owner, name="poller", expires_in_days=7)
    theirs = api_token_create(user=system_admin, name="ops script")
    ApiToken.objects.filter(pk=theirs.token.pk).update(last_used=theirs.token.created)

    output = _run("list")
    header, *rows = output.splitlines()
    assert header.split() == ["user", "name", "prefix", "created", "expires", "last", "used"]
    assert len(rows) == 2
    assert mine.value not in output
    assert theirs.value not in output
    row = next(row for row in rows if "poller" in row)
    assert owner.username in row
    assert mine.token.token_key in row
    assert row.rstrip().endswith("never")  # never used
    assert mine.token.expiry.strftime("%Y-%m-%d %H:%M") in row

    only_owner = _run("list", owner.username)
    assert "poller" in only_owner
    assert "ops script" not in only_owner


def test_list_says_when_there_are_none(owner):
    assert _run("list", owner.username).strip() == f"No API tokens for {owner.username}."


def test_revoke_by_prefix_revokes_that_token_only(api_client, owner):
    kept = api_token_create(user=owner, name="kept")
    gone = api_token_create(user=owner, name="gone")

    output = _run("revoke", gone.token.token_key)

    assert "Revoked API token 'gone'" in output
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["kept"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {gone.value}")
    assert api_client.get("/api/v1/notifications/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {kept.value}")
    assert api_client.get("/api/v1/notifications/").status_code == 200
    assert AuditEntry.objects.filter(action="api_token.revoked", target=owner.username).exists()


def test_revoke_refuses_a_prefix_that_matches_nothing_or_several(owner):
    first = api_token_create(user=owner, name="one")
    second = api_token_create(user=owner, name="two")
    ApiToken.objects.filter(pk=first.token.pk).update(token_key="abcdef0123456aa")
    ApiToken.objects.filter(pk=second.token.pk).update(token_key="abcdef0123456bb")

    with pytest.raises(CommandError, match="No API token has the prefix 'fff'"):
        _run("revoke", "fff")
    with pytest.raises(CommandError, match="More than one API token has the prefix 'abcdef'"):
        _run("revoke", "abcdef")
    assert ApiToken.objects.count() == 2

    _run("revoke", "abcdef0123456bb")
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["one"]


def test_revoke_takes_a_whole_token_without_ever_printing_it(api_client, owner):
    pasted = api_token_create(user=owner, name="leaked")

    output = _run("revoke", pasted.value)

    assert "Revoked API token 'leaked'" in output
    assert pasted.value not in output
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {pasted.value}")
    assert api_client.get("/api/v1/notifications/").status_code == 401
    with pytest.raises(CommandError) as refused:
        _run("revoke", pasted.value)  # gone now: the refusal shows the prefix alone
    assert pasted.value not in str(refused.value)
    assert pasted.token.token_key in str(refused.value)


def test_revoke_with_a_whole_token_that_only_shares_a_prefix_revokes_nothing(owner):
    kept = api_token_create(user=owner, name="kept")

    with pytest.raises(CommandError, match="No API token has the prefix"):
        _run("revoke", kept.token.token_key + "0" * 49)
    assert ApiToken.objects.count() == 1
