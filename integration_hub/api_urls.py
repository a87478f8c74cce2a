"""The core's /api/v1/ routes: integrations, credentials, customers and orders."""

from integration_hub import apis, record_apis
from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path

urlpatterns = [
    api_path("integrations", apis.IntegrationListCreateApi.as_view(), name="integration-list"),
    api_path(
        rf"integrations/(?P<integration_id>{ID})",
        apis.IntegrationDetailApi.as_view(),
        name="integration-detail",
    ),
    api_path("customers", record_apis.CustomerListCreateApi.as_view(), name="customer-list"),
    api_path("customers/merge", record_apis.CustomerMergeApi.as_view(), name="customer-merge"),
    api_path(
        r"customers/(?P<customer_id>[^/]+)/notes",
        record_apis.CustomerNoteCreateApi.as_view(),
        name="customer-notes",
    ),
    api_path(
        r"customers/(?P<customer_id>[^/]+)/segments/(?P<segment_name>[^/]+)",
        record_apis.CustomerSegmentApi.as_view(),
        name="customer-segment",
    ),
    api_path(
        r"customers/(?P<customer_id>[^/]+)",
        record_apis.CustomerDetailApi.as_view(),
        name="customer-detail",
    ),
    api_path("orders", record_apis.OrderListCreateApi.as_view(), name="order-list"),
    api_path(
        r"orders/(?P<retail_transaction_id>[^/]+)",
        record_apis.OrderDetailApi.as_view(),
        name="order-detail",
    ),
    api_path("credentials", apis.CredentialListCreateApi.as_view(), name="credential-list"),
    api_path(
        rf"credentials/(?P<credential_id>{ID})",
        apis.CredentialDetailApi.as_view(),
        name="credential-detail",
    ),
]
