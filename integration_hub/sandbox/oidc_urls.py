"""The sandbox's OpenID provider under /sandbox/oidc/: authorization (with consent), token,
discovery, keys and userinfo. Not the application-registration or token-management pages.

Mounted at the root URLconf's top level, in django-oauth-toolkit's own "oauth2_provider"
namespace: its discovery document and issuer reverse their URLs there."""

from django.urls import path
from oauth2_provider import views

app_name = "oauth2_provider"
urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path(
        ".well-known/openid-configuration",
        views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", views.UserInfoView.as_view(), name="user-info"),
]
