"""The Organisation Kit simulator's partner data, generated from a fixed seed: the same
people, accounts, locations, services, agreements and products on every machine, a year of
monthly invoices (new / paid / overdue relative to today), and hourly measurements and cost.

People (personal number, email) — the demo and the tests sign in as them:
- Anna Lind 198001011234 anna.lind@example.com: OWNER of A1001 and A1002, GUEST of A1003
- Erik Berg 197505052345 erik.berg@example.com: OWNER of A1003, GUEST of A1001
- Sara Holm 199002023456 sara.holm@example.com: OWNER of A1004
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

SEED = "organisation-kit-v1"

SERVICE_TYPES = {
    "ELECTRICITY": ("kWh", Decimal("1.85")),
    "DISTRICT_HEATING": ("kWh", Decimal("0.92")),
    "WATER": ("m3", Decimal("42.00")),
    "BROADBAND": ("GB", Decimal("0.00")),
}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    personal_number: str
    email: str
    phone: str


PEOPLE = [
    Person("U1", "Anna Lind", "198001011234", "anna.lind@example.com", "+46701234501"),
    Person("U2", "Erik Berg", "197505052345", "erik.berg@example.com", "+46701234502"),
    Person("U3", "Sara Holm", "199002023456", "sara.holm@example.com", "+46701234503"),
]

# account id → (customerId, name, type, [(person id, role)])
ACCOUNTS = {
    "A1001": ("CUST-1001", "Lind household", "PRIVATE", [("U1", "OWNER"), ("U2", "GUEST")]),
    "A1002": ("CUST-1002", "Lind summer house", "PRIVATE", [("U1", "OWNER")]),
    "A1003": ("CUST-1003", "Berg Consulting AB", "BUSINESS", [("U2", "OWNER"), ("U1", "GUEST")]),
    "A1004": ("CUST-1004", "Holm apartment", "PRIVATE", [("U3", "OWNER")]),
}

STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Vasagatan", "Sveavägen", "Linnégatan"]
CITIES = ["Stockholm", "Göteborg", "Uppsala", "Malmö"]


def _rng(*keys: object) -> random.Random:
    digest = hashlib.sha256(":".join([SEED, *map(str, keys)]).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))  # noqa: S311 (simulated data, not security)


def person(person_id: str) -> Person | None:
    return next((p for p in PEOPLE if p.id == person_id), None)


def account_ids_for(*, ssn: str | None = None, email: str | None = None) -> list[str]:
    matches = {
        p.id
        for p in PEOPLE
        if (ssn and p.personal_number == ssn) or (email and p.email.lower() == email.lower())
    }
    return [
        account_id
        for account_id, (*_, members) in ACCOUNTS.items()
        if any(person_id in matches for person_id, _ in members)
    ]


def account(account_id: str) -> dict | None:
    if account_id not in ACCOUNTS:
        return None
    customer_id, name, kind, _ = ACCOUNTS[account_id]
    return {"id": account_id, "customerId": customer_id, "name": name, "type": kind}


def account_members(account_id: str) -> list[tuple[Person, str]]:
    return [(person(person_id), role) for person_id, role in ACCOUNTS[account_id][3]]


@cache
def locations(account_id: str) -> list[dict]:
    rng = _rng("locations", account_id)
    result = []
    for n in range(1, rng.randint(1, 2) + 1):
        location_id = f"{account_id}-L{n}"
        kinds = rng.sample(sorted(SERVICE_TYPES), k=rng.randint(2, 3))
        services = [
            {
                "id": f"{location_id}-S{i}",
                "type": kind,
                "name": kind.replace("_", " ").title(),
                "measurementId": f"M-{location_id}-S{i}",
                "costId": f"C-{location_id}-S{i}",
            }
            for i, kind in enumerate(kinds, start=1)
        ]
        result.append(
            {
                "id": location_id,
                "name": "Home" if n == 1 else f"Site {n}",
                "address": f"{rng.choice(STREETS)} {rng.randint(1, 99)}, {rng.choice(CITIES)}",
                "services": services,
            }
        )
    return result


def service(service_id: str) -> dict | None:
    account_id = service_id.split("-")[0]
    if account_id not in ACCOUNTS:
        return None
    for location in locations(account_id):
        for item in location["services"]:
            if item["id"] == service_id:
                return item
    return None


def agreements(service_id: str) -> list[dict]:
    rng = _rng("agreements", service_id)
    result = []
    start = date(2022, 1, 1) + timedelta(days=rng.randint(0, 700))
    for n in range(1, rng.randint(1, 2) + 1):
        end = start + timedelta(days=365 * rng.randint(1, 3))
        result.append(
            {
                "id": f"{service_id}-AG{n}",
                "name": rng.choice(["Fixed price", "Variable price", "Standard", "Green"]),
                "status": "ACTIVE" if n == 1 else "ENDED",
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
            }
        )
        start = end
    return result


def products(service_id: str) -> list[dict]:
    item = service(service_id)
    unit, price = SERVICE_TYPES[item["type"]]
    rng = _rng("products", service_id)
    names = ["Base fee", "Usage", "Green certificate", "Support plan"]
    return [
        {
            "id": f"{service_id}-P{n}",
            "name": name,
            "price": str((price * Decimal(rng.randint(80, 120)) / 100).quantize(Decimal("0.01"))),
            "unit": unit if name == "Usage" else "month",
        }
        for n, name in enumerate(names[: rng.randint(1, 3)], start=1)
    ]


def invoices(account_id: str, *, today: date) -> list[dict]:
    """Twelve monthly invoices up to today: the latest is new (due in the future), the one
    before overdue on one account in two, all older ones paid."""
    rng = _rng("invoices", account_id)
    is_late_payer = rng.random() < 0.5
    result = []
    for months_back in range(11, -1, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
        issued = date(year, month + 1, 1)
        due = issued + timedelta(days=30)
        if due >= today:
            status = "new"
        elif months_back == 1 and is_late_payer:
            status = "overdue"
        else:
            status = "paid"
        result.append(
            {
                "id": f"{account_id}-INV-{issued:%Y%m}",
                "status": status,
                "amount": str(Decimal(rng.randint(40000, 250000)) / 100),
                "currency": "SEK",
                "issueDate": issued.isoformat(),
                "dueDate": due.isoformat(),
            }
        )
    return result


def _hours(from_date: date, to_date: date):
    start = datetime(from_date.year, from_date.month, from_date.day, tzinfo=UTC)
    hours = min(((to_date - from_date).days + 1) * 24, 24 * 93)
    for n in range(max(hours, 0)):
        yield start + timedelta(hours=n)


def _usage(measurement_key: str, moment: datetime) -> Decimal:
    rng = _rng("usage", measurement_key, moment.isoformat())
    daily_shape = 1.0 + 0.6 * (7 <= moment.hour <= 9 or 17 <= moment.hour <= 21)
    return Decimal(str(round(rng.uniform(0.2, 1.5) * daily_shape, 3)))


def measurements(measurement_id: str, *, from_date: date, to_date: date) -> dict | None:
    item = service(measurement_id.removeprefix("M-"))
    if item is None or item["measurementId"] != measurement_id:
        return None
    unit, _ = SERVICE_TYPES[item["type"]]
    return {
        "measurementId": measurement_id,
        "unit": unit,
        "values": [
            {"timestamp": int(moment.timestamp()), "value": str(_usage(item["id"], moment))}
            for moment in _hours(from_date, to_date)
        ],
    }


def cost(cost_id: str, *, from_date: date, to_date: date) -> dict | None:
    item = service(cost_id.removeprefix("C-"))
    if item is None or item["costId"] != cost_id:
        return None
    _, price = SERVICE_TYPES[item["type"]]
    return {
        "costId": cost_id,
        "currency": "SEK",
        "values": [
            {
                "timestamp": int(moment.timestamp()),
                "value": str((_usage(item["id"], moment) * price).quantize(Decimal("0.01"))),
            }
            for moment in _hours(from_date, to_date)
        ],
    }
