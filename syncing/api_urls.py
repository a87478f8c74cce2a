"""Under /api/v1/: the user's identities and the mirror of their connections."""

from django.urls import re_path

from . import apis, identity_apis

urlpatterns = [
    re_path(r"^identities/?$", identity_apis.IdentityListApi.as_view(), name="identities"),
    re_path(
        r"^identities/bankid/?$",
        identity_apis.BankIdStartApi.as_view(),
        name="identities-bankid-start",
    ),
    re_path(
        r"^identities/bankid/collect/?$",
        identity_apis.BankIdCollectApi.as_view(),
        name="identities-bankid-collect",
    ),
    re_path(
        r"^connections/(?P<connection_id>[0-9]+)/accounts/?$",
        apis.ConnectionAccountListApi.as_view(),
        name="connection-accounts",
    ),
]
