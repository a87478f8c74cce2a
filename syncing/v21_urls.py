"""/v2.1/: reference 002's API (DESIGN.md, "Connections and inbound sync")."""

from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path

from . import apis

urlpatterns = [
    api_path(r"connections", apis.ConnectionListCreateApi.as_view(), name="v21-connections"),
    api_path(
        r"connections/synchronize",
        apis.ConnectionSynchronizeAllApi.as_view(),
        name="v21-connections-synchronize",
    ),
    api_path(
        rf"connections/(?P<connection_id>{ID})",
        apis.ConnectionDetailApi.as_view(),
        name="v21-connection",
    ),
    api_path(
        rf"connections/(?P<connection_id>{ID})/synchronize",
        apis.ConnectionSynchronizeApi.as_view(),
        name="v21-connection-synchronize",
    ),
    api_path(r"queues", apis.QueueListApi.as_view(), name="v21-queues"),
    api_path(rf"queues/(?P<queue_id>{ID})", apis.QueueEventsApi.as_view(), name="v21-queue"),
]
