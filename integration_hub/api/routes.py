"""URL routes of the APIs: every path answers with and without its trailing slash, without a
redirect (DESIGN.md, "REST API"). Write a path id as `ids.ID` so that one beyond the database's
range matches nothing and answers 404."""

from django.urls import re_path


def api_path(route: str, view, name: str):
    """`route` is a regular expression without anchors or trailing slash, such as
    r"customers/(?P<customer_id>[^/]+)" or rf"integrations/(?P<integration_id>{ID})"."""
    return re_path(rf"^{route}/?$", view, name=name)
