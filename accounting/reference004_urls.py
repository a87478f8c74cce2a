"""Reference 004's API, scoped /Subscriber_{subscriberId}/AccountingIntegration/Type_{type}/."""

from integration_hub.api.ids import ID
from integration_hub.api.routes import api_path

from .apis import reference004

SCOPE = (
    rf"Subscriber_(?P<subscriber_id>{ID})/AccountingIntegration/Type_(?P<integration_type>[^/]+)"
)

urlpatterns = [
    api_path(SCOPE + "/Sync", reference004.SyncApi.as_view(), name="accounting-sync"),
    api_path(SCOPE + "/History", reference004.HistoryApi.as_view(), name="accounting-history"),
    api_path(
        SCOPE + rf"/History/(?P<sync_record_id>{ID})/Packets",
        reference004.PacketListApi.as_view(),
        name="accounting-packets",
    ),
    api_path(
        SCOPE + rf"/History/(?P<sync_record_id>{ID})/Resend",
        reference004.ResendApi.as_view(),
        name="accounting-resend",
    ),
]
