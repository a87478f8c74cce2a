"""Under /api/v1/connections/{id}/: writes at the partner for one of the user's connections:
update one's own phone number or email, add a guest to an account one owns. Each then
refreshes the mirror and records an event (services/live.py)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses
from integration_hub.api.strict_types import StrictTypesMixin

from ..selectors import connection_of
from ..services import live
from ..services.live import PHONE_NUMBER
from .live import PARTNER_ERRORS, partner_errors, text

_INPUT_400 = error_responses(400)


class PartnerUserSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    email_address = serializers.CharField()
    phone_number = serializers.CharField()


def _partner_user_out(user: dict) -> dict:
    return {
        "id": None if user.get("id") is None else str(user["id"]),
        "name": text(user.get("name")),
        "email_address": text(user.get("emailAddress")),
        "phone_number": text(user.get("phoneNumber")),
    }


class UserUpdateInputSerializer(StrictTypesMixin, serializers.Serializer):
    phone_number = serializers.RegexField(PHONE_NUMBER, required=False, max_length=32)
    email_address = serializers.EmailField(required=False, max_length=254)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"phone_number": ["Give phoneNumber, emailAddress or both."]}
            )
        return attrs


class ConnectionUserUpdateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_user_update",
        summary="Update a user's phone number or email at the partner",
        description="Your own partner user only; then the mirror is refreshed "
        "and an UPDATE_USER_SUCCESS event recorded. Rule the schema cannot express (400): "
        "at least one of phoneNumber and emailAddress is given.",
        request=UserUpdateInputSerializer,
        responses={200: PartnerUserSerializer, **_INPUT_400, **PARTNER_ERRORS},
    )
    def patch(self, request, connection_id: str, user_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
        serializer = UserUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with partner_errors("user"):
            answer = live.account_user_update(
                connection=connection,
                user_id=user_id,
                phone_number=serializer.validated_data.get("phone_number"),
                email_address=serializer.validated_data.get("email_address"),
            )
        return Response(_partner_user_out(answer))


class GuestAddInputSerializer(StrictTypesMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email_address = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone_number = serializers.RegexField(
        PHONE_NUMBER, required=False, allow_blank=True, max_length=32
    )


class GuestOutputSerializer(serializers.Serializer):
    role = serializers.CharField()
    user = PartnerUserSerializer()


class ConnectionGuestAddApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_account_guest_add",
        summary="Add a guest to an account at the partner",
        description="Account owners only; then the mirror is refreshed and an "
        "ADD_USER_SUCCESS event recorded.",
        request=GuestAddInputSerializer,
        responses={201: GuestOutputSerializer, **_INPUT_400, **PARTNER_ERRORS},
    )
    def post(self, request, connection_id: str, account_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
        serializer = GuestAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with partner_errors("account"):
            answer = live.account_guest_add(
                connection=connection,
                account_id=account_id,
                name=data["name"],
                email_address=data.get("email_address", ""),
                phone_number=data.get("phone_number", ""),
            )
        return Response(
            {"role": text(answer["role"]), "user": _partner_user_out(answer["user"])},
            status=status.HTTP_201_CREATED,
        )
