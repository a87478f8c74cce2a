"""API tokens in the admin: looked at (never their values or digests), revoked by System
Admin through the service, never added here (the /tokens/ page and `manage.py tokens create`
create them, showing the value once)."""

from django.contrib import admin, messages

from integration_hub.models import ApiToken
from integration_hub.services.api_tokens import api_token_revoke

SHOWN_FIELDS = ("user", "name", "prefix", "created", "expires", "last_used_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = SHOWN_FIELDS
    fields = SHOWN_FIELDS
    readonly_fields = SHOWN_FIELDS
    exclude = ("digest",)
    list_select_related = ("user",)
    search_fields = ("name", "token_key", "user__username")
    ordering = ("-created", "-id")
    actions = ["revoke_selected"]

    @admin.display(description="Prefix", ordering="token_key")
    def prefix(self, token: ApiToken) -> str:
        return f"{token.token_key}…"

    @admin.display(description="Expires", ordering="expiry")
    def expires(self, token: ApiToken):
        return token.expiry or "never"

    @admin.display(description="Last used", ordering="last_used")
    def last_used_at(self, token: ApiToken):
        return token.last_used or "never"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Revoking needs `delete_apitoken`, which System Admin holds (and superusers).
    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke_selected(self, request, queryset):
        tokens = list(queryset.select_related("user"))
        for token in tokens:
            api_token_revoke(token=token, acting_user=request.user)
        messages.success(request, f"Revoked {len(tokens)} API token(s).")

    def delete_model(self, request, obj):
        api_token_revoke(token=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            api_token_revoke(token=token, acting_user=request.user)
