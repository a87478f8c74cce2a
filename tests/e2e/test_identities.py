"""An Owner verifies their email with "Sandbox ID" (the sandbox's OpenID provider, as `make run`
sets it up) in a real browser, and connects to the organisation with it."""

import pytest
from playwright.sync_api import expect

from syncing.models import Connection

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandbox_id(base_url, settings):
    """The simulator as an organisation and Sandbox ID trusted for it, as the demo has them."""
    from syncing.demo import DEMO_EMAIL, demo_integration_ensure, sandbox_id_provider_ensure

    settings.SITE_URL = base_url
    integration = demo_integration_ensure(base_url=base_url)
    provider = sandbox_id_provider_ensure(base_url=base_url, integration=integration)
    return integration, provider, DEMO_EMAIL


def test_an_owner_verifies_an_email_with_sandbox_id_and_connects_with_it(
    page, owner, sandbox_id, sign_in, screenshot
):
    integration, provider, email = sandbox_id
    owner.email = email.upper()  # the provider lower-cases it; the hub compares without case
    owner.save(update_fields=["email"])
    sign_in(page, owner)

    page.get_by_role("link", name="Identities").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your identities")
    expect(page.locator("tbody")).to_contain_text("No verified identity yet")
    page.get_by_role("link", name="Verify an email").click()
    screenshot(page, "verify-email")
    page.get_by_role("button", name="Verify with Sandbox ID").click()

    # The sandbox's consent page (django-oauth-toolkit), then back at the hub.
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    screenshot(page, "sandbox-id-consent")
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your identities")
    expect(page.get_by_text(f"Sandbox ID verified your email {email}")).to_be_visible()
    row = page.locator("tbody tr", has_text=email)
    expect(row).to_contain_text("Sandbox ID")
    expect(row.locator("[data-valid-for]")).to_have_text(integration.name)
    screenshot(page, "identities")

    page.goto("/connections/new/")
    page.get_by_label("Organisation").first.select_option(label=integration.name)
    page.get_by_label("Connect as").select_option(label=f"Email {email}")
    page.get_by_role("button", name="Connect").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(integration.name)
    connection = Connection.objects.select_related("identity").get(user=owner)
    assert (connection.identity.kind, connection.identity.value) == ("EMAIL", email)
    assert [v.provider for v in connection.identity.verifications.all()] == [provider]
