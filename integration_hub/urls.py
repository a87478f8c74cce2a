from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integration_hub import apis, record_apis, views

# Every API path answers with and without its trailing slash, without a redirect.
api_v1 = [
    re_path(r"^integrations/?$", apis.IntegrationListCreateApi.as_view(), name="integration-list"),
    re_path(
        r"^integrations/(?P<integration_id>[0-9]+)/?$",
        apis.IntegrationDetailApi.as_view(),
        name="integration-detail",
    ),
    re_path(r"^customers/?$", record_apis.CustomerListCreateApi.as_view(), name="customer-list"),
    re_path(r"^customers/merge/?$", record_apis.CustomerMergeApi.as_view(), name="customer-merge"),
    re_path(
        r"^customers/(?P<customer_id>[^/]+)/notes/?$",
        record_apis.CustomerNoteCreateApi.as_view(),
        name="customer-notes",
    ),
    re_path(
        r"^customers/(?P<customer_id>[^/]+)/segments/(?P<segment_name>[^/]+)/?$",
        record_apis.CustomerSegmentApi.as_view(),
        name="customer-segment",
    ),
    re_path(
        r"^customers/(?P<customer_id>[^/]+)/?$",
        record_apis.CustomerDetailApi.as_view(),
        name="customer-detail",
    ),
    re_path(r"^orders/?$", record_apis.OrderListCreateApi.as_view(), name="order-list"),
    re_path(
        r"^orders/(?P<retail_transaction_id>[^/]+)/?$",
        record_apis.OrderDetailApi.as_view(),
        name="order-detail",
    ),
    re_path(r"^credentials/?$", apis.CredentialListCreateApi.as_view(), name="credential-list"),
    re_path(
        r"^credentials/(?P<credential_id>[0-9]+)/?$",
        apis.CredentialDetailApi.as_view(),
        name="credential-detail",
    ),
    path("datasync/", include("datasync.urls")),
    path("", include("accounting.api_urls")),
    path("", include("syncing.api_urls")),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("v2.1/", include("syncing.urls")),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("accounting.urls")),
    path("", include("syncing.web_urls")),
    path("", include("datasync.web_urls")),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("integration_hub.sandbox.urls")))
