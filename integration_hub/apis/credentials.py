"""REST API of the credential store (DESIGN.md, "REST API"). Everyone who may look sees which
secrets are set, never their values; only System Admin saves or deletes."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses
from integration_hub.api.pagination import paginated_response
from integration_hub.api.permissions import IsSystemAdmin, IsSystemAdminOrConfig
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import CREDENTIAL_SUMMARY_FIELDS, DEFAULT_CREDENTIAL_MAP, Credential
from integration_hub.services.credentials import credential_delete, credential_set


class CredentialInputSerializer(StrictTypesMixin, serializers.Serializer):
    """Secrets are write-only: accepted here, never returned."""

    map_name = serializers.CharField(max_length=100, default=DEFAULT_CREDENTIAL_MAP)
    key_name = serializers.CharField(max_length=100)
    client_id = serializers.CharField(max_length=500, required=False)
    client_secret = serializers.CharField(write_only=True, required=False, trim_whitespace=False)
    api_key = serializers.CharField(write_only=True, required=False)
    refresh_token = serializers.CharField(write_only=True, required=False)


class CredentialOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        fields = ["id", *CREDENTIAL_SUMMARY_FIELDS]


class CredentialListCreateApi(APIView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [IsSystemAdmin()]
        return [IsSystemAdminOrConfig()]

    @extend_schema(
        operation_id="credentials_list",
        summary="List credential store entries (which secrets are set, never their values)",
        responses={200: CredentialOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        return paginated_response(
            request,
            Credential.objects.order_by("map_name", "key_name"),
            view=self,
            serializer_class=CredentialOutputSerializer,
        )

    @extend_schema(
        operation_id="credentials_save",
        summary="Save secrets into an entry (System Admin only)",
        description=(
            "An API key or a refresh token is saved on its own. Omitted secrets keep their "
            "stored value.\n\n"
            "Refused with 400 (rules across values): a client ID without its client secret, "
            "or a secret without its client ID (they are saved together); a body that gives "
            "none of client credentials, an API key or a refresh token; an API key or a "
            "refresh token of blanks only."
        ),
        request=CredentialInputSerializer,
        responses={201: CredentialOutputSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = CredentialInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        credential = credential_set(
            map_name=data["map_name"],
            key_name=data["key_name"],
            client_id=data.get("client_id"),
            client_secret=data.get("client_secret"),
            api_key=data.get("api_key"),
            refresh_token=data.get("refresh_token"),
            acting_user=request.user,
        )
        return Response(CredentialOutputSerializer(credential).data, status=status.HTTP_201_CREATED)


class CredentialDetailApi(APIView):
    permission_classes = [IsSystemAdmin]

    @extend_schema(
        operation_id="credentials_destroy",
        summary="Delete a credential store entry (System Admin only)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, credential_id: int):
        credential = get_object_or_404(Credential, pk=credential_id)
        credential_delete(
            map_name=credential.map_name, key_name=credential.key_name, acting_user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
