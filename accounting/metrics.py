"""What the accounting export counts in /metrics (declared in declarations.py): packets a
delivery ended, by the state it left them in."""

from integration_hub.metrics import Counter

PACKETS = Counter(
    "hub_accounting_packets_total",
    "Accounting packets a delivery ended, by final state: sent, or failed (refused by the "
    "system, not connected, or replaced by a later record's packet). A resent packet counts "
    "again when its resend ends.",
    ["state"],
    known_values={"state": ["sent", "failed"]},
)


def packets_count(*, state: str, count: int = 1) -> None:
    """Count packets whose state a delivery changed, once that change commits."""
    if count:
        PACKETS.inc_on_commit(count, state=state.lower())
