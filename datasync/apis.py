"""REST API of Data Sync: the run history (DESIGN.md, "Data Sync")."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from integration_hub import roles
from integration_hub.api.errors import error_responses
from integration_hub.api.pagination import paginated_response

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
            "worker",
            "concurrency",
            "heartbeat_at",
        ]


class SyncRunListApi(APIView):
    permission_classes = [IsDataSyncViewer]

    @extend_schema(
        operation_id="datasync_runs_list",
        summary="List Data Sync runs",
        description="The run history, newest first: status, counts and the last error with "
        "the receiver's status code and a response excerpt; where each run ran (`worker`, host "
        "and pid), how many lanes it delivered at once (`concurrency`) and its last heartbeat "
        "(a RUNNING run writes its counts with each).",
        responses={
            200: SyncRunOutputSerializer(many=True),
            **error_responses(
                400,
                401,
                403,
                404,
                notes={
                    400: "A page or pageSize that is not a whole number.",
                    403: "Not Job Admin, System Admin or System Config.",
                    404: "A page past the last one.",
                },
            ),
        },
    )
    def get(self, request):
        return paginated_response(
            request, run_list(), view=self, serializer_class=SyncRunOutputSerializer
        )
