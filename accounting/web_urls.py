"""The accounting pages of the web UI (templates/accounting/)."""

from django.urls import path

from . import views

urlpatterns = [
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
