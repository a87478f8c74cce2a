"""What each accounting system is sent for a packet, and how its answers read (DESIGN.md,
"Accounting": the table of calls per type). One adapter per integration type, behind one
interface:

- `build(key, content, maps)`: the packet mapped into the system's objects (its `payload`,
  one object per part: "" for a system that books a packet as one object, the payment
  method for one object per payment), and every unmapped value and broken rule;
- `calls(...)`: the calls that make the system hold exactly that payload, given the objects
  it holds for the key already (create, update, delete);
- `read(call, response)`: what the answer says (the objects now held, external ids, an
  error, a throttle).

Adapters are pure: no database, no HTTP. Delivery (services/delivery.py) sends their calls.
"""

from .base import Adapter, Answer, Call, body_bytes, call_idempotency_key
from .generic import GenericAdapter
from .quickbooks import QuickBooksAdapter
from .sage import SageAdapter
from .xero import XeroAdapter

_ADAPTERS: dict[str, Adapter] = {
    adapter.integration_type: adapter
    for adapter in (GenericAdapter(), QuickBooksAdapter(), XeroAdapter(), SageAdapter())
}


def adapter_for(integration_type: str) -> Adapter:
    return _ADAPTERS[integration_type]


__all__ = [
    "Adapter",
    "Answer",
    "Call",
    "adapter_for",
    "body_bytes",
    "call_idempotency_key",
]
