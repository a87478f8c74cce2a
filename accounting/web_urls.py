"""The accounting pages of the web UI (templates/accounting/). Ids are written as the API's
`ID` (at most 18 digits), so one beyond the database's range matches nothing (404)."""

from django.urls import re_path

from integration_hub.api.ids import ID

from . import views

INTEGRATION = rf"^accounting/(?P<accounting_integration_id>{ID})"

urlpatterns = [
    re_path(INTEGRATION + "/$", views.integration_detail, name="accounting-integration"),
    re_path(
        INTEGRATION + rf"/records/(?P<sync_record_id>{ID})/resend/$",
        views.record_resend,
        name="accounting-record-resend",
    ),
    re_path(INTEGRATION + "/sync/$", views.panel_sync, name="accounting-panel-sync"),
    # Connect and Disconnect: the forms POST to these paths as DESIGN.md writes them (no
    # trailing slash), and the callback is registered with each system without one.
    re_path(INTEGRATION + "/connect/?$", views.connect, name="accounting-connect"),
    re_path(INTEGRATION + "/connect/pick/?$", views.connect_pick, name="accounting-connect-pick"),
    re_path(INTEGRATION + "/disconnect/?$", views.disconnect, name="accounting-disconnect"),
    re_path(
        r"^accounting/oauth/callback/?$", views.oauth_callback, name="accounting-oauth-callback"
    ),
]
