"""The core's /api/v1/ routes: integrations, credentials, customers and orders."""

from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path
from integration_hub.apis import credentials, customers, integrations, orders

urlpatterns = [
    api_path(
        "integrations", integrations.IntegrationListCreateApi.as_view(), name="integration-list"
    ),
    api_path(
        rf"integrations/(?P<integration_id>{ID})",
        integrations.IntegrationDetailApi.as_view(),
        name="integration-detail",
    ),
    api_path("customers", customers.CustomerListCreateApi.as_view(), name="customer-list"),
    api_path("customers/merge", customers.CustomerMergeApi.as_view(), name="customer-merge"),
    api_path(
        r"customers/(?P<customer_id>[^/]+)/notes",
        customers.CustomerNoteCreateApi.as_view(),
        name="customer-notes",
    ),
    api_path(
        r"customers/(?P<customer_id>[^/]+)/segments/(?P<segment_name>[^/]+)",
        customers.CustomerSegmentApi.as_view(),
        name="customer-segment",
    ),
    api_path(
        r"customers/(?P<customer_id>[^/]+)",
        customers.CustomerDetailApi.as_view(),
        name="customer-detail",
    ),
    api_path("orders", orders.OrderListCreateApi.as_view(), name="order-list"),
    api_path(
        r"orders/(?P<retail_transaction_id>[^/]+)",
        orders.OrderDetailApi.as_view(),
        name="order-detail",
    ),
    api_path("credentials", credentials.CredentialListCreateApi.as_view(), name="credential-list"),
    api_path(
        rf"credentials/(?P<credential_id>{ID})",
        credentials.CredentialDetailApi.as_view(),
        name="credential-detail",
    ),
]
