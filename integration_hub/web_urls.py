"""The core's pages: the dashboard, signing in and out, and the user's API tokens; and
/metrics for Prometheus."""

from django.contrib.auth import views as auth_views
from django.urls import path

from integration_hub import views
from integration_hub.metrics import views as metrics_views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="api-token-revoke"),
    path("metrics", metrics_views.metrics, name="metrics"),
]
