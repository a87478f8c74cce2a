"""/v2.1/: reference 002's API (DESIGN.md, "Connections and inbound sync")."""

from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path

from .apis import connections, queues

urlpatterns = [
    api_path(r"connections", connections.ConnectionListCreateApi.as_view(), name="v21-connections"),
    api_path(
        r"connections/synchronize",
        connections.ConnectionSynchronizeAllApi.as_view(),
        name="v21-connections-synchronize",
    ),
    api_path(
        rf"connections/(?P<connection_id>{ID})",
        connections.ConnectionDetailApi.as_view(),
        name="v21-connection",
    ),
    api_path(
        rf"connections/(?P<connection_id>{ID})/synchronize",
        connections.ConnectionSynchronizeApi.as_view(),
        name="v21-connection-synchronize",
    ),
    api_path(r"queues", queues.QueueListApi.as_view(), name="v21-queues"),
    api_path(rf"queues/(?P<queue_id>{ID})", queues.QueueEventsApi.as_view(), name="v21-queue"),
]
