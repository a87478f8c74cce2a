"""/v2.1/ (reference 002's API, DESIGN.md "Connections and inbound sync"). Every path answers
with and without its trailing slash, without a redirect."""

from django.urls import re_path

from . import apis

urlpatterns = [
    re_path(r"^connections/?$", apis.ConnectionListCreateApi.as_view(), name="v21-connections"),
    re_path(
        r"^connections/synchronize/?$",
        apis.ConnectionSynchronizeAllApi.as_view(),
        name="v21-connections-synchronize",
    ),
    re_path(
        r"^connections/(?P<connection_id>[0-9]+)/?$",
        apis.ConnectionDetailApi.as_view(),
        name="v21-connection",
    ),
    re_path(
        r"^connections/(?P<connection_id>[0-9]+)/synchronize/?$",
        apis.ConnectionSynchronizeApi.as_view(),
        name="v21-connection-synchronize",
    ),
    re_path(r"^queues/?$", apis.QueueListApi.as_view(), name="v21-queues"),
    re_path(r"^queues/(?P<queue_id>[0-9]+)/?$", apis.QueueEventsApi.as_view(), name="v21-queue"),
]
