"""The Data Sync settings of reference 003, with the keys of DESIGN.md ("Data Sync")."""

from integration_hub.models import DEFAULT_CREDENTIAL_MAP
from integration_hub.system_settings import SettingDefinition, SettingKind

CATEGORY = "Data Sync"

DATASYNC_SETTINGS = (
    SettingDefinition(
        "DataSyncEnabled",
        SettingKind.BOOL,
        False,
        CATEGORY,
        "Capture customer and transaction changes and send them.",
    ),
    SettingDefinition(
        "DataSyncApiUrl",
        SettingKind.URL,
        "",
        CATEGORY,
        "The URL of the REST endpoint the messages are POSTed to.",
    ),
    SettingDefinition(
        "DataSyncTokenUrl",
        SettingKind.URL,
        "",
        CATEGORY,
        "The OAuth2 token endpoint that issues the Bearer token for the API.",
    ),
    SettingDefinition(
        "DataSyncCredentialMapName",
        SettingKind.TEXT,
        DEFAULT_CREDENTIAL_MAP,
        CATEGORY,
        "The credential store map holding the client ID and secret.",
    ),
    SettingDefinition(
        "DataSyncCredentialKeyName",
        SettingKind.TEXT,
        "datasync",
        CATEGORY,
        "The key of the client ID and secret within that map.",
    ),
    SettingDefinition(
        "DataSyncBatchSize",
        SettingKind.INT,
        100,
        CATEGORY,
        "Records moved from the pending queues to the progress queue per batch.",
        min_value=1,
        max_value=10_000,
    ),
    SettingDefinition(
        "DataSyncMessagesPerRequest",
        SettingKind.INT,
        1,
        CATEGORY,
        "Messages per POST (1 is the documented behaviour).",
        min_value=1,
        max_value=1_000,
    ),
    SettingDefinition(
        "DataSyncMaxAttempts",
        SettingKind.INT,
        10,
        CATEGORY,
        "Failed attempts before a record is dead-lettered.",
        min_value=1,
        max_value=1_000,
    ),
    SettingDefinition(
        "DataSyncIntervalMinutes",
        SettingKind.INT,
        5,
        CATEGORY,
        "Minutes between scheduled runs.",
        min_value=1,
        max_value=1_440,
    ),
    SettingDefinition(
        "DataSyncSigningSecret",
        SettingKind.SECRET,
        "",
        CATEGORY,
        "When set, messages carry Standard Webhooks signatures (whsec_...).",
    ),
)

SCHEDULE_NAME = "Data Sync"
