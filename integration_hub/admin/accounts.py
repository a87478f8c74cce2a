"""Users and subscribers in the admin."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from integration_hub.admin.base import ReadOnlyInline
from integration_hub.models import Subscriber, SubscriberOwner, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")


class SubscriberOwnerInline(ReadOnlyInline):
    """Who owns the subscriber. Read-only: ownership goes with the Owner role, granted and
    revoked (with its audit row) by `manage.py roles grant USER Owner --subscriber ID`."""

    model = SubscriberOwner
    fields = ("user", "created_at")
    readonly_fields = fields


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at")
    search_fields = ("name",)
    inlines = [SubscriberOwnerInline]
