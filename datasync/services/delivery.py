"""Delivery to the Data Sync receiver (reference 003, "Data Sync Job"; DESIGN.md, "Data Sync"):
the outbound client for DataSyncApiUrl, the headers of a POST (webhook id and Standard
Webhooks signature), one POST with its failure named, and the backoff after a failure.

A run reads what its POSTs need (settings, signing key, timeout) once, into a `Sender`, so
that the threads doing its HTTP never read settings from the database per POST."""

import hashlib
import random
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

from integration_hub.outbound import (
    OutboundClient,
    OutboundError,
    OutboundHTTPError,
    ensure_success,
)
from integration_hub.outbound.errors import OutboundPolicyError, OutboundTokenError
from integration_hub.system_settings import setting_get

from ..metrics import OUTBOUND_LABEL

BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0


class DeliveryFailed(Exception):
    """A delivery did not succeed. `status_code` and `excerpt` are the receiver's answer, when
    it answered; `retry_after` its Retry-After. `is_attempt` is false when the configuration is
    to blame (not set, no token, an address the network policy refuses), not the records:
    then no attempt is counted on them."""

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        excerpt: str = "",
        *,
        retry_after: float | None = None,
        is_attempt: bool = True,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.excerpt = excerpt
        self.retry_after = retry_after
        self.is_attempt = is_attempt


def delivery_client() -> OutboundClient:
    """The outbound client for DataSyncApiUrl with a Bearer token from DataSyncTokenUrl."""
    api_url = setting_get("DataSyncApiUrl")
    token_url = setting_get("DataSyncTokenUrl")
    if not api_url:
        raise DeliveryFailed("DataSyncApiUrl is not set.", is_attempt=False)
    if not token_url:
        raise DeliveryFailed("DataSyncTokenUrl is not set.", is_attempt=False)
    return OutboundClient.for_credentials(
        auth_type="OAUTH2_CLIENT_CREDENTIALS",
        token_url=token_url,
        map_name=setting_get("DataSyncCredentialMapName"),
        key_name=setting_get("DataSyncCredentialKeyName"),
        base_url=api_url,
        integration_label=OUTBOUND_LABEL,
    )


def webhook_id_for(record_ids: list[int]) -> str:
    """The uniqueId itself for one message; for several, an id of exactly that set."""
    if len(record_ids) == 1:
        return str(record_ids[0])
    digest = hashlib.sha256(",".join(map(str, record_ids)).encode()).hexdigest()
    return f"batch_{digest[:32]}"


def _signed_headers(*, webhook_id: str, body: bytes, signer: Webhook | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "webhook-id": webhook_id}
    if signer is not None:
        # Standard Webhooks: sign "{id}.{timestamp}.{body}" with the whsec_ key.
        timestamp = datetime.fromtimestamp(int(time.time()), tz=UTC)
        headers["webhook-timestamp"] = str(int(timestamp.timestamp()))
        headers["webhook-signature"] = signer.sign(webhook_id, timestamp, body.decode())
    return headers


def _signer() -> Webhook | None:
    secret = setting_get("DataSyncSigningSecret")
    return Webhook(secret) if secret else None


def delivery_headers(*, webhook_id: str, body: bytes) -> dict[str, str]:
    return _signed_headers(webhook_id=webhook_id, body=body, signer=_signer())


class Sender:
    """POSTs message bodies to DataSyncApiUrl with what it read once at creation: the
    client, the signing key and the timeout. Safe to use from several threads (each has its
    own pooled connections; the client's token is shared)."""

    def __init__(self, client: OutboundClient):
        self.client = client
        self.signer = _signer()
        self.timeout = setting_get("OutboundTimeoutSeconds")

    def post(self, *, body: bytes, webhook_id: str) -> None:
        """POST one body; a 2xx returns, anything else raises DeliveryFailed."""
        headers = _signed_headers(webhook_id=webhook_id, body=body, signer=self.signer)
        try:
            response = self.client.post("", data=body, headers=headers, timeout=self.timeout)
            ensure_success(response)
            response.content  # noqa: B018 (read it all, so the connection is reused)
        except OutboundHTTPError as exc:
            raise DeliveryFailed(
                str(exc), exc.status_code, exc.body_excerpt, retry_after=exc.retry_after
            ) from exc
        except (OutboundTokenError, OutboundPolicyError) as exc:
            raise DeliveryFailed(str(exc), is_attempt=False) from exc
        except OutboundError as exc:  # a timeout, a refused connection
            raise DeliveryFailed(str(exc)) from exc


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter (half fixed, half random); never sooner than the
    receiver's Retry-After."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not a secret)
    return max(delay, retry_after or 0.0)
