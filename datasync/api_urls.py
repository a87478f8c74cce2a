"""Data Sync's /api/v1/ routes."""

from integration_hub.api.routes import api_path

from . import apis

urlpatterns = [
    api_path("datasync/runs", apis.SyncRunListApi.as_view(), name="datasync-run-list"),
]
