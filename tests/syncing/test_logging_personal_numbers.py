"""Personal numbers never reach a log line (DESIGN.md "Invariants"), at DEBUG either: they
travel in the query string of the Organisation Kit's account search, in BankID requests and
in the partner's user roles. Against the sandbox's simulator over real HTTP, with the
project's own LOGGING in each format (tests/project_logging.py)."""

import pytest

from integration_hub.sandbox.organisation_kit_data import PEOPLE
from syncing.demo import syncing_demo_setup
from syncing.models import SyncJob
from syncing.organisation_kit import OrganisationKitClient
from syncing.services.identities import identity_bankid_collect, identity_bankid_start
from syncing.services.sync_jobs import RUN_TASK
from syncing.services.sync_run import sync_job_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_bankid_verification_and_a_full_sync_log_no_personal_number(
    log_format, live_server, tasks, project_logging
):
    UserFactory(username="owner")
    connection = syncing_demo_setup(base_url=live_server.url)
    (job_id,) = [job_id for (job_id,) in tasks.args_of(RUN_TASK)]
    sara = UserFactory(username="sara")
    integration = connection.integration
    log = project_logging(log_format, level="DEBUG")

    order_ref = identity_bankid_start(
        user=sara, integration=integration, personal_number="199002023456"
    )
    kit = OrganisationKitClient.for_integration(integration)
    kit.outbound.post("bankid/complete", json={"orderRef": order_ref}).raise_for_status()
    identity = identity_bankid_collect(user=sara, integration=integration, order_ref=order_ref)
    # Searches the partner's accounts by Anna Lind's personal number (?ssn=...), then mirrors
    # users whose personal numbers the partner sends.
    job = sync_job_run(job_id=job_id)

    assert identity.value == "199002023456"
    assert job.status == SyncJob.Status.SUCCESS, job.error
    text = log.text
    assert "/sandbox/organisation-kit/accounts/search" in text  # the search was logged
    assert "urllib3.connectionpool" in text  # at DEBUG
    leaked = [person.name for person in PEOPLE if person.personal_number in text]
    assert leaked == []
    if log_format == "json":
        assert len(log.objects()) == len(log.lines())
