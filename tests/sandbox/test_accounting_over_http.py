"""The sandbox's Xero over real HTTP with an OAuth library (requests-oauthlib): consent page,
code with PKCE, tenants, a posting, and a rotated refresh, as the hub's connect flow meets
them."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from integration_hub.sandbox import accounting_data as data
from integration_hub.sandbox.models import AccountingObject
from integration_hub.sandbox.services import sandbox_accounting_app_ensure

pytestmark = pytest.mark.django_db(transaction=True)

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def test_an_owner_connects_xero_posts_and_refreshes(live_server, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server speaks http
    urls = data.sandbox_accounting_urls(system=data.XERO, site=live_server.url)
    client_id, secret = sandbox_accounting_app_ensure(system=data.XERO)
    redirect_uri = f"{live_server.url}/accounting/oauth/callback"
    session = OAuth2Session(
        client_id, redirect_uri=redirect_uri, scope=urls["scope"].split(), pkce="S256"
    )
    authorize_url, state = session.authorization_url(urls["authorize_url"])

    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    form.update({"decision": "allow", "tenant": [c.tenant_id for c in data.COMPANIES[data.XERO]]})
    answer = browser.post(authorize_url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert parse_qs(urlsplit(location).query)["state"] == [state]

    token = session.fetch_token(
        urls["token_url"], authorization_response=location, client_secret=secret, timeout=10
    )
    tenants = session.get(f"{urls['base_url']}/connections", timeout=10).json()
    posted = session.put(
        f"{urls['base_url']}/api.xro/2.0/BankTransactions",
        json={
            "BankTransactions": [
                {
                    "Type": "RECEIVE",
                    "Contact": {"Name": "Point of sale"},
                    "BankAccount": {"Code": "091"},
                    "Date": "2026-11-20",
                    "Reference": "2026-11-20/VISA",
                    "LineItems": [
                        {
                            "Description": "Classes",
                            "Quantity": 1,
                            "UnitAmount": 100.0,
                            "AccountCode": "200",
                            "TaxType": "TAX001",
                            "TaxAmount": 8.0,
                        }
                    ],
                }
            ]
        },
        headers={"xero-tenant-id": tenants[1]["tenantId"], "Idempotency-Key": "k-1"},
        timeout=10,
    )
    refreshed = session.refresh_token(
        urls["token_url"], auth=HTTPBasicAuth(client_id, secret), timeout=10
    )

    assert [t["tenantName"] for t in tenants] == ["Demo Studio", "Demo Studio Europe"]
    assert posted.status_code == 200, posted.text
    assert posted.json()["BankTransactions"][0]["StatusAttributeString"] == "OK"
    assert AccountingObject.objects.get().company.name == "Demo Studio Europe"
    assert refreshed["refresh_token"] != token["refresh_token"]
    old = requests.post(
        urls["token_url"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=HTTPBasicAuth(client_id, secret),
        timeout=10,
    )
    assert old.status_code == 400
    assert old.json()["error"] == "invalid_grant"
