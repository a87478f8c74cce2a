"""Data Sync in the admin: the "Data Sync" page (settings, credential panel, Send Sample
Message, Run now, queue depths), run history and the queues, read-only, with replay of dead
letters. Thin: every write calls a service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from integration_hub import roles
from integration_hub.admin import (
    ReadOnlyAdmin,
    settings_category_save,
    settings_form_class,
    settings_form_initial,
)
from integration_hub.models import Credential
from integration_hub.services.credentials import credential_input_validate, credential_set
from integration_hub.services.jobs import job_enqueue
from integration_hub.system_settings import setting_definitions, setting_get, setting_is_set
from integration_hub.views import safe_next

from .declarations import CATEGORY
from .models import CustomerPendingRecord, ProgressRecord, SyncRun, TransactionPendingRecord
from .selectors import queue_depths, run_list, user_may_run
from .services.replay import dead_letters_replay
from .services.sample import sample_message_send


class CredentialPanelForm(forms.Form):
    """Reference 003's data sync panel: Save needs both the Client ID and the Secret."""

    client_id = forms.CharField(label="Client ID", max_length=200)
    client_secret = forms.CharField(
        label="Secret",
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def _credential_map_key() -> tuple[str, str]:
    return setting_get("DataSyncCredentialMapName"), setting_get("DataSyncCredentialKeyName")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "started_at",
        "finished_at",
        "trigger",
        "status",
        "worker",
        "concurrency",
        "moved",
        "sent",
        "failed",
        "dead_lettered",
        "last_status_code",
        "last_error",
    )
    list_filter = ("status", "trigger")
    date_hierarchy = "started_at"
    change_list_template = "datasync/admin/syncrun_change_list.html"

    def get_urls(self):
        custom = [
            path(
                "data-sync/",
                self.admin_site.admin_view(self.data_sync_view),
                name="datasync_page",
            ),
            path(
                "run-now/", self.admin_site.admin_view(self.run_now_view), name="datasync_run_now"
            ),
        ]
        return custom + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "depths": queue_depths(),
            "may_run": user_may_run(request.user),
        }
        return super().changelist_view(request, extra_context)

    def run_now_view(self, request):
        if request.method != "POST" or not user_may_run(request.user):
            raise PermissionDenied
        job_enqueue(
            func="datasync.tasks.datasync_run_now",
            description="Data Sync (Run now)",
            acting_user=request.user,
        )
        messages.info(request, "Data Sync run queued: its result appears in the run history.")
        return HttpResponseRedirect(
            safe_next(request, reverse("admin:datasync_syncrun_changelist"))
        )

    def data_sync_view(self, request):
        user = request.user
        if not roles.user_has_admin_role(user):
            raise PermissionDenied
        definitions = [d for d in setting_definitions() if d.category == CATEGORY]
        shown = {
            "form": settings_form_class(definitions, user)(
                initial=settings_form_initial(definitions)
            ),
            "credential_form": CredentialPanelForm(),
            "sample": None,
        }
        if request.method == "POST":
            outcome = self._data_sync_action(request, definitions)
            if isinstance(outcome, HttpResponseRedirect):
                return outcome
            shown.update(outcome)
        return TemplateResponse(
            request,
            "datasync/admin/data_sync.html",
            self._data_sync_context(request, definitions, **shown),
        )

    def _data_sync_action(self, request, definitions) -> HttpResponseRedirect | dict:
        """Do what the page posted: a redirect when it is done, else what to show again (a
        form with its errors, the sample's answer). Each action checks its own role."""
        user = request.user
        # The settings form is the category page's own, which posts no "action".
        action = request.POST.get("action", "settings")
        if action == "settings":
            if not user.has_perm("integration_hub.change_systemsetting"):
                raise PermissionDenied
            form = settings_form_class(definitions, user)(
                request.POST, initial=settings_form_initial(definitions)
            )
            if form.is_valid() and settings_category_save(request, form, definitions):
                messages.success(request, "Data Sync settings saved.")
                return HttpResponseRedirect(request.path)
            return {"form": form}
        if action == "credentials":
            if not roles.user_may_save_secrets(user):
                raise PermissionDenied
            form = CredentialPanelForm(request.POST)
            if form.is_valid() and self._credentials_save(request, form):
                messages.success(request, "Client ID and secret saved in the credential store.")
                return HttpResponseRedirect(request.path)
            return {"credential_form": form}
        if action == "sample":
            if not roles.user_may_send_sample_message(user):
                raise PermissionDenied
            return {"sample": sample_message_send(acting_user=user)}
        raise PermissionDenied

    def _data_sync_context(self, request, definitions, *, form, credential_form, sample) -> dict:
        user = request.user
        map_name, key_name = _credential_map_key()
        return {
            **self.admin_site.each_context(request),
            "title": "Data Sync",
            "category": CATEGORY,
            "form": form,
            "may_change": user.has_perm("integration_hub.change_systemsetting"),
            "opts": self.model._meta,
            "secrets_set": {d.key: setting_is_set(d.key) for d in definitions if d.is_secret},
            "credential_form": credential_form,
            "credential": Credential.objects.filter(map_name=map_name, key_name=key_name).first(),
            "credential_map": map_name,
            "credential_key": key_name,
            "may_save_secrets": roles.user_may_save_secrets(user),
            "may_send_sample": roles.user_may_send_sample_message(user),
            "may_run": user_may_run(user),
            "sample": sample,
            "depths": queue_depths(),
            "runs": run_list()[:10],
        }

    def _credentials_save(self, request, form) -> bool:
        map_name, key_name = _credential_map_key()
        arguments = {
            "map_name": map_name,
            "key_name": key_name,
            "client_id": form.cleaned_data["client_id"],
            "client_secret": form.cleaned_data["client_secret"],
            "api_key": None,
            "refresh_token": None,
        }
        try:
            credential_input_validate(**arguments)
            credential_set(acting_user=request.user, **arguments)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                name = {"clientId": "client_id", "clientSecret": "client_secret"}.get(field)
                form.add_error(name, errors)
            return False
        return True


class QueueAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "capture_order",
        "object_name",
        "unique_id",
        "action",
        "subscriber_id",
        "customer_key",
        "created_at",
    )
    list_filter = ("object_name", "action")
    search_fields = ("unique_id", "customer_key")
    queue_title = ""

    def changelist_view(self, request, extra_context=None):
        depth = self.model.objects.count()
        extra_context = {**(extra_context or {}), "title": f"{self.queue_title}: {depth} records"}
        return super().changelist_view(request, extra_context)


@admin.register(CustomerPendingRecord)
class CustomerPendingRecordAdmin(QueueAdmin):
    queue_title = "Customer pending queue"


@admin.register(TransactionPendingRecord)
class TransactionPendingRecordAdmin(QueueAdmin):
    queue_title = "Transaction pending queue"


@admin.register(ProgressRecord)
class ProgressRecordAdmin(QueueAdmin):
    queue_title = "Progress queue"
    list_display = (
        "id",
        "object_name",
        "unique_id",
        "action",
        "customer_key",
        "attempts",
        "next_attempt_at",
        "is_dead_letter",
        "last_error",
    )
    list_filter = ("is_dead_letter", "object_name", "action")
    actions = ["replay"]

    def has_replay_permission(self, request) -> bool:
        return user_may_run(request.user)

    @admin.action(
        description="Replay the dead letters of the selected records' customers, in order",
        permissions=["replay"],
    )
    def replay(self, request, queryset):
        count = dead_letters_replay(
            record_ids=list(queryset.values_list("id", flat=True)), acting_user=request.user
        )
        messages.success(request, f"{count} dead-lettered records queued again.")
