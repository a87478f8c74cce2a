from rest_framework import exceptions, pagination
from rest_framework.response import Response


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=&pageSize=` (default 50, at most 200) → {count, next, previous, results}.

    A value that is not a whole number of at least 1 is a 400 naming the parameter (DRF would
    quietly use the default page size instead); a page past the last one is DRF's 404.
    A larger pageSize than 200 gives pages of 200.
    """

    page_size = 50
    page_size_query_param = "pageSize"
    max_page_size = 200
    last_page_strings = ()  # the schema says integer: no ?page=last

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name in (self.page_query_param, self.page_size_query_param):
            if not all(_is_positive_integer(v) for v in request.query_params.getlist(name)):
                errors[name] = ["Enter a whole number of at least 1."]
        if errors:
            raise exceptions.ValidationError(errors)
        return super().paginate_queryset(queryset, request, view=view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Number of results per page (default {self.page_size}, "
                    f"at most {self.max_page_size})."
                )
        return parameters


def _is_positive_integer(value: str) -> bool:
    return value.isdecimal() and value.isascii() and int(value) >= 1


def paginated_response(
    request, queryset, *, view, serializer_class=None, context=None, prepare=None
) -> Response:
    """One page of `queryset` as {count, next, previous, results}: each row through
    `serializer_class`, or as it is (a `.values()` queryset) without one. `prepare` takes the
    page's rows (a list) and returns them ready to serialize (with what a page reads at once)."""
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    if prepare is not None:
        page = prepare(list(page))
    if serializer_class is None:
        data = list(page)
    else:
        data = serializer_class(page, many=True, context=context or {}).data
    return paginator.get_paginated_response(data)
