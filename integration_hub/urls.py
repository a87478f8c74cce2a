"""The site's URLs, composed from the project's installed apps without naming a pipeline: each
app's `api_urls` under /api/v1/, its `web_urls` at the root, and the URL modules of the
external contracts it declared (`registry.ContractUrls`). Every API path answers with and
without its trailing slash (`api.routes.api_path`)."""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.module_loading import module_has_submodule
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integration_hub.api.routes import api_path
from integration_hub.registry import contract_urls


def is_project_app(app) -> bool:
    """An app of this repository, not a third-party one (whose package lives elsewhere, in the
    virtualenv say), whichever path it was imported by: symlinks resolved, as in BASE_DIR."""
    return Path(app.path).resolve() == settings.BASE_DIR.joinpath(*app.name.split("."))


def _project_url_modules(name: str) -> list[str]:
    """The `name` modules of this project's apps, in INSTALLED_APPS order (the core first)."""
    return [
        f"{app.name}.{name}"
        for app in apps.get_app_configs()
        if is_project_app(app) and module_has_submodule(app.module, name)
    ]


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include([path("", include(m)) for m in _project_url_modules("api_urls")])),
    api_path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    api_path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    *(path(urls.prefix, include(urls.module)) for urls in contract_urls()),
    *(path("", include(module)) for module in _project_url_modules("web_urls")),
]

handler404 = "integration_hub.views.not_found"

if settings.SANDBOX_ENABLED:
    if settings.OAUTH2_PROVIDER["OIDC_ENABLED"]:
        # Top level, not inside "sandbox": django-oauth-toolkit reverses "oauth2_provider:...".
        urlpatterns.append(path("sandbox/oidc/", include("integration_hub.sandbox.oidc_urls")))
    urlpatterns.append(path("sandbox/", include("integration_hub.sandbox.urls")))
