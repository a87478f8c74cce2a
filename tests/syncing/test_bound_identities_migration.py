"""Migration 0004_bound_identities (DESIGN.md, "Connections and inbound sync"): identities
verified before identities were bound get the integrations they were verified at. A System
Admin's count for every integration; a BankID one for the integrations the user connected
with it, so every existing connection stays valid; a BankID one never used verifies nowhere."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from syncing.models import Connection, IdentityVerification, VerifiedIdentity
from syncing.services.connections import IdentityNotVerified, connection_create
from tests.factories import OrganisationKitIntegrationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("syncing", "0003_sync_follow_up_and_bankid_orders")]


def test_identities_verified_before_keep_the_integrations_they_were_verified_at(tasks):
    energy = OrganisationKitIntegrationFactory(name="Energy Co")
    water = OrganisationKitIntegrationFactory(name="Water Co")
    anna, erik, maja = (UserFactory(username=name) for name in ("anna", "erik", "maja"))
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    OldIdentity = old.get_model("syncing", "VerifiedIdentity")
    OldConnection = old.get_model("syncing", "Connection")
    verified_at = timezone.now() - timedelta(days=30)

    def old_identity(user, method, value):
        return OldIdentity.objects.create(
            user_id=user.pk,
            kind="PERSONAL_NUMBER",
            value=value,
            method=method,
            verified_at=verified_at,
        )

    by_admin = old_identity(anna, "ADMIN", "198001011234")
    connected = old_identity(erik, "BANKID", "197505052345")
    OldConnection.objects.create(
        user_id=erik.pk, integration_id=energy.pk, identity_id=connected.pk
    )
    unused = old_identity(maja, "BANKID", "199002023456")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    def verifications(identity):
        return list(
            IdentityVerification.objects.filter(identity_id=identity.pk).values_list(
                "method", "integration_id", "provider_id", "verified_at"
            )
        )

    assert verifications(by_admin) == [("ADMIN", None, None, verified_at)]
    assert verifications(connected) == [("BANKID", energy.pk, None, verified_at)]
    assert verifications(unused) == []

    # Anna (a System Admin's) connects anywhere; Erik's connection to Energy Co stays valid,
    # but his number opens nothing at Water Co; Maja's number opens nothing anywhere.
    assert set(VerifiedIdentity.objects.valid_for(water)) == {
        VerifiedIdentity.objects.get(pk=by_admin.pk)
    }
    assert set(VerifiedIdentity.objects.valid_for(energy).values_list("pk", flat=True)) == {
        by_admin.pk,
        connected.pk,
    }
    for integration in (energy, water):
        connection_create(user=anna, integration_id=integration.pk)
    kept = Connection.objects.get(user=erik)
    assert connection_create(user=erik, integration_id=energy.pk) == kept
    with pytest.raises(IdentityNotVerified, match="Water Co"):
        connection_create(user=erik, integration_id=water.pk)
    for integration in (energy, water):
        with pytest.raises(IdentityNotVerified):
            connection_create(
                user=maja, integration_id=integration.pk, personal_number=unused.value
            )
    assert Connection.objects.filter(user=maja).count() == 0
