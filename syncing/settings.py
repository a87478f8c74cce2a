"""The inbound-sync settings (DESIGN.md, "Connections and inbound sync")."""

from integration_hub.system_settings import SettingDefinition, SettingKind

CATEGORY = "Inbound sync"

SYNCING_SETTINGS = (
    SettingDefinition(
        "InvoiceSyncHours",
        SettingKind.HOURS,
        "8-20",
        CATEGORY,
        "Local hours (TIME_ZONE) in which the hourly invoice sync runs: from the first hour "
        "up to, not including, the second (0-24: round the clock).",
    ),
    SettingDefinition(
        "NotificationWebhookUrl",
        SettingKind.URL,
        "",
        CATEGORY,
        "Where notifications are POSTed as JSON (through the outbound client); empty: they "
        "are written to the log.",
    ),
)
