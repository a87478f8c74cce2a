from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=&pageSize=` (default 50, at most 200) → {count, next, previous, results}."""

    page_size = 50
    page_size_query_param = "pageSize"
    max_page_size = 200
