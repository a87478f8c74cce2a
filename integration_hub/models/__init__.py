from .audit import AuditEntry
from .base import TimeStampedModel
from .cluster import ClusterHeartbeat
from .credentials import DEFAULT_CREDENTIAL_MAP, Credential, OAuthToken
from .integrations import Integration
from .subscribers import Subscriber, SubscriberOwner
from .system_settings import SettingsVersion, SystemSetting
from .users import User

__all__ = [
    "DEFAULT_CREDENTIAL_MAP",
    "AuditEntry",
    "ClusterHeartbeat",
    "Credential",
    "Integration",
    "OAuthToken",
    "SettingsVersion",
    "Subscriber",
    "SubscriberOwner",
    "SystemSetting",
    "TimeStampedModel",
    "User",
]
