"""The demo (after `make run`): Data Sync enabled against the sandbox receiver."""

from django.db import transaction

from integration_hub.models import Credential
from integration_hub.services.credentials import credential_set
from integration_hub.services.system_settings import setting_set
from integration_hub.system_settings import setting_get

DEMO_RECEIVER_SLUG = "datasync"


@transaction.atomic
def datasync_demo_setup(*, base_url: str, sandbox_map: str, sandbox_key: str) -> str:
    """Idempotent: point Data Sync at the sandbox receiver with the sandbox's OAuth2 client,
    whose credentials are copied to the Data Sync map/key. Returns the receiver's URL."""
    base_url = base_url.rstrip("/")
    api_url = f"{base_url}/sandbox/receiver/{DEMO_RECEIVER_SLUG}/"
    source = Credential.objects.get(map_name=sandbox_map, key_name=sandbox_key)
    wanted = {
        "DataSyncCredentialMapName": sandbox_map,
        "DataSyncCredentialKeyName": "datasync",
        "DataSyncApiUrl": api_url,
        "DataSyncTokenUrl": f"{base_url}/sandbox/o/token/",
        "DataSyncEnabled": True,
    }
    target = Credential.objects.filter(map_name=sandbox_map, key_name="datasync").first()
    if target is None or (target.client_id, target.client_secret) != (
        source.client_id,
        source.client_secret,
    ):
        credential_set(
            map_name=sandbox_map,
            key_name="datasync",
            client_id=source.client_id,
            client_secret=source.client_secret,
        )
    for key, value in wanted.items():
        if setting_get(key) != value:
            setting_set(key=key, value=value)
    return api_url
