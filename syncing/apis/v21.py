"""What every /v2.1/ view shares (reference 002, with the literal snake_case shapes of
DESIGN.md): plain JSON in and out, no camelCase conversion, and bodies documented with raw
schemas, so that the schema's camelCase post-processing leaves them as they are."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from integration_hub.api.parsers import JSONParser


class V21Api(APIView):
    """Plain JSON in and out; the user's own data only."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]


def array_of(schema: dict) -> OpenApiResponse:
    """A bare JSON array of `schema` (/v2.1/ lists are bare arrays of one user's data)."""
    return OpenApiResponse(response={"type": "array", "items": schema})
