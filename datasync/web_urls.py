"""The Data Sync page of the web UI (templates/datasync/page.html)."""

from django.urls import path

from . import views

urlpatterns = [
    path("datasync/", views.datasync_page, name="datasync-page"),
    path("datasync/run/", views.datasync_run_now, name="datasync-run-now"),
    path("datasync/sample/", views.datasync_sample, name="datasync-sample"),
    path("datasync/replay/", views.datasync_replay, name="datasync-replay"),
]
