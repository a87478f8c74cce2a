"""/api/v1/connections/{id}/accounts/: the mirrored accounts of one of the user's connections,
narrowed to what their role on each account allows (DESIGN.md: an OWNER sees everything, a
GUEST locations and services, and of the users only its own entry, whose id it updates)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses
from integration_hub.api.pagination import paginated_response

from ..models import Account
from ..selectors import connection_accounts, connection_of


class AgreementOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    name = serializers.CharField()
    status = serializers.CharField()
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    unit = serializers.CharField()


class ServiceOutputSerializer(serializers.Serializer):
    """cost_id, agreements and products: null for a GUEST of the account (DESIGN.md)."""

    id = serializers.CharField(source="partner_id")
    type = serializers.CharField()
    name = serializers.CharField()
    measurement_id = serializers.CharField()
    cost_id = serializers.SerializerMethodField()
    agreements = serializers.SerializerMethodField()
    products = serializers.SerializerMethodField()

    def _is_owner(self) -> bool:
        return self.context.get("role") == Account.Role.OWNER

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cost_id(self, service) -> str | None:
        return service.cost_id if self._is_owner() else None

    @extend_schema_field(AgreementOutputSerializer(many=True, allow_null=True))
    def get_agreements(self, service):
        if not self._is_owner():
            return None
        return AgreementOutputSerializer(service.agreements.all(), many=True).data

    @extend_schema_field(ProductOutputSerializer(many=True, allow_null=True))
    def get_products(self, service):
        if not self._is_owner():
            return None
        return ProductOutputSerializer(service.products.all(), many=True).data


class LocationOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    name = serializers.CharField()
    address = serializers.CharField()
    services = serializers.SerializerMethodField()

    @extend_schema_field(ServiceOutputSerializer(many=True))
    def get_services(self, location):
        return ServiceOutputSerializer(
            location.services.all(), many=True, context=self.context
        ).data


class AccountUserOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    role = serializers.CharField()
    name = serializers.CharField()
    email_address = serializers.CharField()
    phone_number = serializers.CharField()


class AccountOutputSerializer(serializers.Serializer):
    """What the hub user may see of one mirrored account: everything as its OWNER; as a
    GUEST locations and services, and its own user entry only (no other users, agreements,
    products or cost)."""

    id = serializers.CharField(source="partner_id")
    customer_id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    role = serializers.ChoiceField(choices=Account.Role.choices)
    users = serializers.SerializerMethodField()
    locations = serializers.SerializerMethodField()

    @extend_schema_field(
        AccountUserOutputSerializer(
            many=True,
            help_text="Every user of the account for its OWNER; for a GUEST only its own "
            "entry (the userId to PATCH under .../users/{userId}/).",
        )
    )
    def get_users(self, account):
        users = account.users.all()  # prefetched: filtered here, no query per account
        if account.role != Account.Role.OWNER:
            users = [user for user in users if user.is_hub_user]
        return AccountUserOutputSerializer(users, many=True).data

    @extend_schema_field(LocationOutputSerializer(many=True))
    def get_locations(self, account):
        return LocationOutputSerializer(
            account.locations.all(), many=True, context={"role": account.role}
        ).data


class ConnectionAccountListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_accounts_list",
        summary="The mirrored accounts of one of your connections",
        description="With users, locations, services, agreements and products, as far as your "
        "role on each account (OWNER or GUEST) allows: a GUEST sees its own user entry only.",
        responses={
            200: AccountOutputSerializer(many=True),
            **error_responses(
                400,
                401,
                404,
                notes={
                    400: "A bad page or pageSize.",
                    404: "No such connection of yours, or a page past the last.",
                },
            ),
        },
    )
    def get(self, request, connection_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
        return paginated_response(
            request,
            connection_accounts(connection=connection),
            view=self,
            serializer_class=AccountOutputSerializer,
        )
