from .api_tokens import API_TOKEN_NAME_MAX_LENGTH, ApiToken
from .audit import AuditEntry
from .base import TimeStampedModel
from .cluster import ClusterHeartbeat
from .credentials import CREDENTIAL_SUMMARY_FIELDS, DEFAULT_CREDENTIAL_MAP, Credential, OAuthToken
from .customers import Customer, CustomerNote, CustomerSegment, Segment
from .integrations import Integration
from .metrics import MetricTotal
from .oauth_grants import OAuthGrant
from .orders import Order, OrderItem, OrderPayment
from .subscribers import Subscriber, SubscriberOwner
from .system_settings import SettingsVersion, SystemSetting
from .users import User

__all__ = [
    "API_TOKEN_NAME_MAX_LENGTH",
    "CREDENTIAL_SUMMARY_FIELDS",
    "DEFAULT_CREDENTIAL_MAP",
    "ApiToken",
    "AuditEntry",
    "ClusterHeartbeat",
    "Credential",
    "Customer",
    "CustomerNote",
    "CustomerSegment",
    "Integration",
    "MetricTotal",
    "OAuthGrant",
    "OAuthToken",
    "Order",
    "OrderItem",
    "OrderPayment",
    "Segment",
    "SettingsVersion",
    "Subscriber",
    "SubscriberOwner",
    "SystemSetting",
    "TimeStampedModel",
    "User",
]
