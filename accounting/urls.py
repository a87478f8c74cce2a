from django.urls import path, re_path

from . import apis, views

# reference 004 scoping: /Subscriber_{subscriberId}/AccountingIntegration/Type_{type}/...
SCOPE = (
    r"^Subscriber_(?P<subscriber_id>[0-9]+)/AccountingIntegration/Type_(?P<integration_type>[^/]+)"
)

urlpatterns = [
    re_path(SCOPE + r"/Sync/?$", apis.SyncApi.as_view(), name="accounting-sync"),
    re_path(SCOPE + r"/History/?$", apis.HistoryApi.as_view(), name="accounting-history"),
    re_path(
        SCOPE + r"/History/(?P<sync_record_id>[0-9]+)/Resend/?$",
        apis.ResendApi.as_view(),
        name="accounting-resend",
    ),
    path(
        "accounting/<int:accounting_integration_id>/",
        views.integration_detail,
        name="accounting-integration",
    ),
    path(
        "accounting/<int:accounting_integration_id>/records/<int:sync_record_id>/resend/",
        views.record_resend,
        name="accounting-record-resend",
    ),
    path(
        "accounting/<int:accounting_integration_id>/sync/",
        views.panel_sync,
        name="accounting-panel-sync",
    ),
]
