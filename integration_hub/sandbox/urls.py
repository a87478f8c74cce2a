from django.urls import include, path
from oauth2_provider import views as oauth2_views

from . import views

app_name = "sandbox"
urlpatterns = [
    # The sandbox's real OAuth2 provider (django-oauth-toolkit): client credentials grant.
    path("o/token/", oauth2_views.TokenView.as_view(), name="token"),
    path("receiver/<slug:slug>/", views.receiver, name="receiver"),
    path("organisation-kit/", include("integration_hub.sandbox.organisation_kit_urls")),
    # QuickBooks Online, Xero and Sage, played for the accounting integrations.
    path("", include("integration_hub.sandbox.accounting_urls")),
]
