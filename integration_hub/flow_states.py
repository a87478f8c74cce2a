"""What an OAuth 2.0 or OpenID Connect flow keeps between its start and its callback (`state`,
the PKCE verifier, a nonce, where to go back): server side in the user's session under a key
of the caller's, bound to the user who started it, used once, forgotten after `lifetime`, and
at most FLOWS_KEPT of a kind per session (the oldest go first)."""

from datetime import datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone

FLOWS_KEPT = 5


def _current(request: HttpRequest, key: str, lifetime: timedelta) -> dict:
    oldest = timezone.now() - lifetime
    return {
        state: entry
        for state, entry in request.session.get(key, {}).items()
        if datetime.fromisoformat(entry["issued_at"]) > oldest
    }


def flow_state_keep(
    request: HttpRequest, *, key: str, state: str, entry: dict, lifetime: timedelta
) -> None:
    """Remember `entry` (JSON values) for the callback that brings `state` back."""
    flows = _current(request, key, lifetime)
    for old in sorted(flows, key=lambda s: flows[s]["issued_at"])[: -FLOWS_KEPT + 1]:
        del flows[old]
    flows[state] = {**entry, "user": request.user.pk, "issued_at": timezone.now().isoformat()}
    request.session[key] = flows


def flow_state_take(
    request: HttpRequest, *, key: str, state: str, lifetime: timedelta
) -> dict | None:
    """The entry kept for `state`, used up at once (saved before the caller's calls take their
    time); None when it was forged, used already, too old or started by another user."""
    flows = _current(request, key, lifetime)
    entry = flows.pop(state, None) if state else None
    request.session[key] = flows
    request.session.save()
    if entry is None or entry["user"] != request.user.pk:
        return None
    return entry
