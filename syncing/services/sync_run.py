"""Running a sync job (the django-q2 task): slice by slice, its steps numbered as in
reference 000:

1. search for accounts (ACCOUNTS_SEARCH) and get each account (ACCOUNT)
2. users and roles (USERS)
3. locations and services (LOCATIONS)
4. agreements and products per service (AGREEMENTS, PRODUCTS)
5. the invoice check of the owned accounts (INVOICES; services/invoices.py)

INITIAL and ALL run 1-5, ACCOUNT runs 1-3 (sign-in, nightly), ACCOUNT_INVOICES 1-3 and 5
(Sync Account), INVOICES 5 (hourly), LIST_ACCOUNTS runs 1, ends with LIST_ACCOUNTS_SUCCESS
carrying the accounts and then queues ALL (reference 002).

Each step first calls the partner (outside any transaction), then writes its part of the
mirror, its channels and its events in one transaction: a failure halfway leaves the mirror
as the last successful step left it.
"""

import logging
import time

from django.db import transaction

from integration_hub.services.errors import IntegrationDisabled, integration_enabled_guard

from ..models import Connection, SyncJob
from ..organisation_kit import OrganisationKitClient, PartnerError
from ..selectors import connection_identity_counts
from .sync_jobs import (
    STEPS_BY_KIND,
    SyncAbandoned,
    job_claim,
    job_continue,
    job_lock,
    list_accounts_finish,
    sync_job_finish,
)
from .sync_steps import StepFailed, StepRunner

logger = logging.getLogger("syncing")

# A slice ends after the step that passes this, well inside django-q2's task timeout (240 s).
SLICE_SECONDS = 60.0


def _identity_guard(connection: Connection) -> None:
    """A connection whose identity no longer counts for its integration (the provider that
    verified it is no longer trusted there, or was removed) syncs nothing: the partner is not
    asked for anyone's accounts on its word."""
    if not connection_identity_counts(connection):
        raise StepFailed(
            f"The identity of this connection is no longer verified for "
            f"{connection.integration.name}: connect again with one that is."
        )


def sync_job_run(
    *, job_id: int, slice_number: int = 0, kit: OrganisationKitClient | None = None
) -> SyncJob | None:
    """Run a queued job (slice 0), or continue a running one (a later slice), the django-q2
    task calls this. Steps run until SLICE_SECONDS have passed, then the rest is queued as
    the next slice. Returns None when there was nothing to run (the job ended already, or
    another worker has this slice)."""
    job = job_claim(job_id, slice_number)
    if job is None:
        return None
    steps = STEPS_BY_KIND[job.kind]
    remaining = [step for step in steps if step >= job.next_step]
    slice_started = time.monotonic()
    try:
        # The integration as the claim read it: a job queued (or a slice continued) after it
        # was disabled ends here, calling nothing.
        integration_enabled_guard(integration=job.connection.integration)
        _identity_guard(job.connection)
        kit = kit or OrganisationKitClient.for_integration(job.connection.integration)
        runner = StepRunner(job, kit)
        accounts = None if 1 in remaining else runner.present_accounts()
        while remaining:
            step = remaining.pop(0)
            if step == 1:
                accounts = runner.step_accounts()
            elif step == 2:
                runner.step_users(accounts)
            elif step == 3:
                runner.step_locations(accounts)
            elif step == 4:
                runner.step_agreements_and_products(accounts)
            else:
                runner.step_invoices(accounts)
            if remaining and time.monotonic() - slice_started >= SLICE_SECONDS:
                job_continue(job_id, next_step=remaining[0])
                return SyncJob.objects.get(pk=job_id)
        if job.kind == SyncJob.Kind.LIST_ACCOUNTS:
            return list_accounts_finish(job_id=job_id, accounts=runner.present_accounts())
        error = ""
    except StepFailed as exc:
        error = str(exc)
    except (PartnerError, IntegrationDisabled) as exc:  # the integration cannot be called
        error = str(exc)
    except SyncAbandoned:
        return SyncJob.objects.get(pk=job_id)
    except Exception as exc:
        logger.exception("sync job %s failed unexpectedly", job_id)
        error = f"unexpected error: {type(exc).__name__}"
    with transaction.atomic():
        try:
            job = job_lock(job_id)
        except SyncAbandoned:
            return SyncJob.objects.get(pk=job_id)
        sync_job_finish(job=job, error=error)
    return job
