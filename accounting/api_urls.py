"""The accounting export's /api/v1/ routes: integrations and their maps."""

from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path

from .apis import integrations

urlpatterns = [
    api_path(
        "accounting-integrations",
        integrations.AccountingIntegrationListCreateApi.as_view(),
        name="accounting-integrations",
    ),
    api_path(
        rf"accounting-integrations/(?P<accounting_integration_id>{ID})",
        integrations.AccountingIntegrationDetailApi.as_view(),
        name="accounting-integration-detail",
    ),
]
