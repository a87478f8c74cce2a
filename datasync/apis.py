"""REST API of Data Sync: the run history (DESIGN.md, "Data Sync")."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from integration_hub import roles
from integration_hub.api.pagination import PageNumberPagination

from .models import SyncRun
from .selectors import run_list


class IsDataSyncViewer(IsAuthenticated):
    """Job Admin, System Admin and System Config see the run history."""

    def has_permission(self, request, view):
        return roles.user_has_role(
            request.user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG, roles.JOB_ADMIN
        )


class SyncRunOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "moved",
            "sent",
            "failed",
            "dead_lettered",
            "has_more",
            "last_error",
            "last_status_code",
            "last_response_excerpt",
        ]


class SyncRunListApi(APIView):
    permission_classes = [IsDataSyncViewer]

    @extend_schema(
        operation_id="datasync_runs_list",
        summary="List Data Sync runs",
        description="The run history, newest first: status, counts and the last error with "
        "the receiver's status code and a response excerpt.",
        responses={
            200: SyncRunOutputSerializer(many=True),
            400: OpenApiResponse(description="A page or pageSize that is not a whole number."),
            401: OpenApiResponse(description="No or bad credentials."),
            403: OpenApiResponse(description="Not Job Admin, System Admin or System Config."),
            404: OpenApiResponse(description="A page past the last one."),
        },
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(run_list(), request, view=self)
        return paginator.get_paginated_response(SyncRunOutputSerializer(page, many=True).data)
