"""The core's pages: the dashboard and signing in and out."""

from django.contrib.auth import views as auth_views
from django.urls import path

from integration_hub import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
