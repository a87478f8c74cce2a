"""What the sandbox's QuickBooks Online, Xero and Sage know: their companies, a small chart of
accounts and tax codes each, their OAuth scopes and token lifetimes, and the maps the hub's
demo uses to post the demo data into them (DEMO_MAPS, in the hub's map format).

Facts from shared/reference/accounting-systems.md; the charts are the sandbox's own.
"""

from dataclasses import dataclass

QUICKBOOKS = "QUICKBOOKS_ONLINE"
XERO = "XERO"
SAGE = "SAGE"
SYSTEMS = (QUICKBOOKS, XERO, SAGE)
SYSTEM_NAMES = {QUICKBOOKS: "QuickBooks Online", XERO: "Xero", SAGE: "Sage Accounting"}
# The URL segment under /sandbox/ that plays each system.
SYSTEM_SLUGS = {QUICKBOOKS: "quickbooks", XERO: "xero", SAGE: "sage"}


@dataclass(frozen=True)
class Company:
    """A company of an accounting system (QuickBooks realm, Xero organisation, Sage
    business): the tenant a token is granted for."""

    tenant_id: str
    name: str


COMPANIES: dict[str, tuple[Company, ...]] = {
    QUICKBOOKS: (Company("9341453050", "Demo Studio (QuickBooks sandbox company)"),),
    XERO: (
        Company("6b1f3c0e-6a1b-4c5e-9d0a-2f7c1e8b4a01", "Demo Studio"),
        Company("c2d9e8f7-1a3b-4d5c-8e9f-0a1b2c3d4e02", "Demo Studio Europe"),
    ),
    SAGE: (Company("5c1d2b7e9a3f4e6d8b0c1a2f3e4d5c6b", "Demo Studio Ltd"),),
}

# Calls per rolling minute per company before a 429 (reference: QuickBooks 500/min per
# company, Xero 60/min per tenant, Sage 100/min as the hub keeps it). A company's row in the
# sandbox admin can lower it.
RATE_LIMITS = {QUICKBOOKS: 500, XERO: 60, SAGE: 100}

# --- Charts of accounts -------------------------------------------------------------------
# QuickBooks: account Ids (AccountRef.value). US company model: sales tax is a liability
# account, not a tax code.
QUICKBOOKS_ACCOUNTS = {
    "79": "Sales - Classes",
    "80": "Sales - Retail",
    "81": "Sales - Memberships",
    "82": "Gift card sales",
    "35": "Checking - VISA deposits",
    "36": "Checking - Mastercard deposits",
    "37": "Checking - Amex deposits",
    "38": "Cash on hand",
    "89": "Sales tax payable",
}
# Xero: account codes (BankAccount.Code must be a BANK account; line AccountCode any other).
XERO_BANK_ACCOUNTS = {
    "090": "Cash drawer",
    "091": "VISA clearing",
    "092": "Mastercard clearing",
    "093": "Amex clearing",
}
XERO_ACCOUNTS = {
    "200": "Sales - Classes",
    "210": "Sales - Retail",
    "220": "Sales - Memberships",
    "230": "Gift card sales",
}
# Xero TaxType codes: a custom 8 % sales tax rate and no tax.
XERO_TAX_TYPES = {"TAX001": "Sales Tax (8%)", "NONE": "Tax Exempt (0%)"}
# Sage: ledger account ids, bank account ids and tax rate ids (32 hex, like Sage's).
SAGE_BANK_ACCOUNTS = {
    "9a0b1c2d3e4f40518293a4b5c6d7e801": "Cash in hand",
    "9a0b1c2d3e4f40518293a4b5c6d7e802": "VISA merchant account",
    "9a0b1c2d3e4f40518293a4b5c6d7e803": "Mastercard merchant account",
    "9a0b1c2d3e4f40518293a4b5c6d7e804": "Amex merchant account",
}
SAGE_LEDGER_ACCOUNTS = {
    "7e1f2a3b4c5d46e7f8091a2b3c4d5e01": "4000 Sales - Classes",
    "7e1f2a3b4c5d46e7f8091a2b3c4d5e02": "4010 Sales - Retail",
    "7e1f2a3b4c5d46e7f8091a2b3c4d5e03": "4020 Sales - Memberships",
    "7e1f2a3b4c5d46e7f8091a2b3c4d5e04": "4030 Gift card sales",
}
SAGE_TAX_RATES = {"GB_STANDARD_8": "Sales tax 8%", "GB_ZERO": "Zero rated 0%"}

# The demo data's values: revenue categories, payment methods and tax rates of its orders.
REVENUE_CATEGORIES = ("Classes", "Retail", "Memberships", "Gift cards")
PAYMENT_METHODS = ("VISA", "MASTERCARD", "AMEX", "CASH")
TAX_RATES = ("0.0800", "0.0000")


def _maps(revenue: list[str], payment: list[str], tax: list[str]) -> list[dict]:
    return [
        *(
            {"kind": "REVENUE_CATEGORY", "source": source, "target": target}
            for source, target in zip(REVENUE_CATEGORIES, revenue, strict=True)
        ),
        *(
            {"kind": "PAYMENT_METHOD", "source": source, "target": target}
            for source, target in zip(PAYMENT_METHODS, payment, strict=True)
        ),
        *(
            {"kind": "TAX_RATE", "source": source, "target": target}
            for source, target in zip(TAX_RATES, tax, strict=True)
        ),
    ]


_SAGE_BANK = list(SAGE_BANK_ACCOUNTS)
_SAGE_LEDGER = list(SAGE_LEDGER_ACCOUNTS)
DEMO_MAPS: dict[str, list[dict]] = {
    # QuickBooks: both tax rates post to the sales tax liability account (US model).
    QUICKBOOKS: _maps(["79", "80", "81", "82"], ["35", "36", "37", "38"], ["89", "89"]),
    XERO: _maps(["200", "210", "220", "230"], ["091", "092", "093", "090"], ["TAX001", "NONE"]),
    SAGE: _maps(
        _SAGE_LEDGER,
        [_SAGE_BANK[1], _SAGE_BANK[2], _SAGE_BANK[3], _SAGE_BANK[0]],
        ["GB_STANDARD_8", "GB_ZERO"],
    ),
}

# --- OAuth ---------------------------------------------------------------------------------
# Scopes each system's consent accepts (a request naming another is refused: invalid_scope).
SCOPES = {
    QUICKBOOKS: frozenset(
        {"com.intuit.quickbooks.accounting", "openid", "profile", "email", "phone", "address"}
    ),
    XERO: frozenset(
        {
            "offline_access",
            "openid",
            "profile",
            "email",
            "accounting.banktransactions",
            "accounting.banktransactions.read",
            "accounting.settings",
            "accounting.settings.read",
            "accounting.transactions",
            "accounting.transactions.read",
            "accounting.contacts",
            "accounting.contacts.read",
        }
    ),
    SAGE: frozenset({"full_access", "readonly"}),
}
DEFAULT_SCOPES = {
    QUICKBOOKS: "com.intuit.quickbooks.accounting",
    XERO: "offline_access accounting.banktransactions accounting.settings.read",
    SAGE: "full_access",
}
# Lifetimes in seconds (reference: QuickBooks access 1 h, refresh about 100 days; Xero
# access 30 min, refresh 60 days; Sage access 5 min, refresh 31 days; codes 60 s).
ACCESS_TOKEN_SECONDS = {QUICKBOOKS: 3600, XERO: 1800, SAGE: 300}
REFRESH_TOKEN_SECONDS = {QUICKBOOKS: 8_726_400, XERO: 5_184_000, SAGE: 2_678_400}
AUTHORIZATION_CODE_SECONDS = 60


def sandbox_accounting_urls(*, system: str, site: str) -> dict[str, str]:
    """The addresses the hub is configured with to use the sandbox's `system` served at
    `site` (the hub's own origin, e.g. http://127.0.0.1:8000): base_url, authorize_url,
    token_url, revoke_url and the default scope."""
    root = f"{site.rstrip('/')}/sandbox/{SYSTEM_SLUGS[system]}"
    paths = {
        QUICKBOOKS: ("/oauth2/authorize", "/oauth2/token", "/oauth2/revoke"),
        XERO: (
            "/identity/connect/authorize",
            "/identity/connect/token",
            "/identity/connect/revocation",
        ),
        SAGE: ("/oauth2/auth/central", "/oauth2/token", "/oauth2/revoke"),
    }[system]
    return {
        "base_url": root,
        "authorize_url": root + paths[0],
        "token_url": root + paths[1],
        "revoke_url": root + paths[2],
        "scope": DEFAULT_SCOPES[system],
    }
