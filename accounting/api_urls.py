from django.urls import re_path

from . import apis

# Included in /api/v1/; every path with or without its trailing slash.
urlpatterns = [
    re_path(
        r"^accounting-integrations/?$",
        apis.AccountingIntegrationListCreateApi.as_view(),
        name="accounting-integrations",
    ),
    re_path(
        r"^accounting-integrations/(?P<accounting_integration_id>[0-9]+)/?$",
        apis.AccountingIntegrationDetailApi.as_view(),
        name="accounting-integration-detail",
    ),
]
