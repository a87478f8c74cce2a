from django.urls import re_path

from . import apis

# Mounted at /api/v1/datasync/; every path answers with and without its trailing slash.
urlpatterns = [
    re_path(r"^runs/?$", apis.SyncRunListApi.as_view(), name="datasync-run-list"),
]
