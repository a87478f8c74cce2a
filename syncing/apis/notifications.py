"""/api/v1/notifications/: the user's invoice notifications, and marking one read."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses
from integration_hub.api.pagination import paginated_response

from ..selectors import notification_list, notification_of
from ..services.notifications import notification_mark_read


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    message = serializers.CharField()
    connection_id = serializers.IntegerField()
    account_id = serializers.CharField(source="account.partner_id")
    invoice_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first",
        parameters=[
            OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only the unread ones.")
        ],
        responses={
            200: NotificationOutputSerializer(many=True),
            **error_responses(
                400,
                401,
                404,
                notes={400: "A bad page, pageSize or unread.", 404: "A page past the last."},
            ),
        },
    )
    def get(self, request):
        unread = request.query_params.get("unread", "false").lower()
        if unread not in ("true", "false"):
            raise exceptions.ValidationError({"unread": ["true or false."]})
        return paginated_response(
            request,
            notification_list(user=request.user, unread_only=unread == "true"),
            view=self,
            serializer_class=NotificationOutputSerializer,
        )


class NotificationReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="notification_read",
        summary="Mark one of your notifications read",
        request=None,
        responses={
            204: OpenApiResponse(description="Marked read."),
            **error_responses(401, 404, notes={404: "No such notification of yours."}),
        },
    )
    def post(self, request, notification_id: str):
        notification = notification_of(user=request.user, notification_id=notification_id)
        notification_mark_read(notification=notification)
        return Response(status=status.HTTP_204_NO_CONTENT)
