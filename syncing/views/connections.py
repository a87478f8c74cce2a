"""The connection pages of inbound sync for business owners (DESIGN.md, "Web UI"): connect to
an organisation (verifying a personal number with BankID on the way), follow a sync live
and browse the mirrored accounts. Every page shows the signed-in user's own connections only.

Buttons that start syncs are plain forms; the page's script sends them with fetch (asking for
JSON) and then follows the sync through the user's event queue, so nothing reloads.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integration_hub.models import Integration
from integration_hub.outbound import OutboundError
from integration_hub.services.errors import IntegrationDisabled
from integration_hub.views import safe_next, wants_json

from ..models import IdentityProvider, SyncJob, VerifiedIdentity
from ..organisation_kit import OrganisationKitClient, PartnerError
from ..selectors import (
    connection_accounts,
    connection_of,
    connection_resource,
    connections_with_last_sync,
    identities_with_validity,
    organisation_kit_integrations,
    queue_position,
)
from ..services.connections import (
    IdentityNotVerified,
    IntegrationNotConnectable,
    connection_create,
)
from ..services.identities import identity_bankid_start
from ..services.sync_jobs import sync_request
from ..services.triggers import sync_now_each
from .live import partner_problem

PERSONAL_NUMBER = r"^[0-9]{10,12}$"


class IdentitySelect(forms.Select):
    """Each identity says which organisations it counts for (`data-valid-for`: ids, or
    "all"), so that the page offers only those valid for the organisation chosen."""

    valid_for: dict[int, str] = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        identity_id = getattr(value, "value", value)
        if identity_id in self.valid_for:
            option["attrs"]["data-valid-for"] = self.valid_for[identity_id]
        return option


class ConnectionForm(forms.Form):
    integration = forms.ModelChoiceField(queryset=Integration.objects.none(), label="Organisation")
    identity = forms.ModelChoiceField(
        queryset=VerifiedIdentity.objects.none(),
        label="Connect as",
        help_text=(
            "One of your identities verified for that organisation: it finds your accounts by it."
        ),
        widget=IdentitySelect(attrs={"data-identity-select": ""}),
    )
    auto_sync = forms.BooleanField(
        required=False, initial=True, label="Sync automatically every day"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = organisation_kit_integrations()
        self.validity = {entry.identity.pk: entry for entry in identities_with_validity(user=user)}
        self.fields["identity"].queryset = VerifiedIdentity.objects.filter(user=user)
        self.fields["identity"].label_from_instance = lambda identity: (
            f"{identity.get_kind_display()} {identity.value}"
        )
        self.fields["identity"].widget.valid_for = {
            pk: "all" if entry.is_for_all else " ".join(str(i.pk) for i in entry.integrations)
            for pk, entry in self.validity.items()
        }

    def clean(self):
        data = super().clean()
        integration, identity = data.get("integration"), data.get("identity")
        if integration and identity and not self.validity[identity.pk].is_valid_for(integration.pk):
            self.add_error(
                "identity",
                f"That identity is not verified for {integration.name}: verify it with its "
                "BankID, or with an identity provider it trusts.",
            )
        return data


class BankIdForm(forms.Form):
    integration = forms.ModelChoiceField(queryset=Integration.objects.none(), label="Organisation")
    personal_number = forms.RegexField(
        PERSONAL_NUMBER,
        label="Personal number",
        help_text="10 or 12 digits, for example 198001011234.",
        error_messages={"invalid": "Enter 10 or 12 digits, without a dash."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = organisation_kit_integrations()


@login_required
def connection_new(request):
    """Choose an organisation and one of your verified identities, or verify one with BankID."""
    user = request.user
    form = ConnectionForm(user=user, initial={"integration": request.GET.get("integration")})
    # Its own prefix: two forms on one page, each field with an id (and label) of its own.
    bankid_form = BankIdForm(
        prefix="bankid", initial={"integration": request.GET.get("integration")}
    )
    order = None
    if request.method == "POST" and request.POST.get("action") == "bankid":
        bankid_form = BankIdForm(request.POST, prefix="bankid")
        if bankid_form.is_valid():
            integration = bankid_form.cleaned_data["integration"]
            try:
                order_ref = identity_bankid_start(
                    user=user,
                    integration=integration,
                    personal_number=bankid_form.cleaned_data["personal_number"],
                )
                order = {"integration": integration, "order_ref": order_ref}
            except PartnerError as exc:
                bankid_form.add_error(None, partner_problem(exc))
    elif request.method == "POST":
        form = ConnectionForm(request.POST, user=user)
        if form.is_valid():
            identity = form.cleaned_data["identity"]
            is_email = identity.kind == VerifiedIdentity.Kind.EMAIL
            try:
                connection = connection_create(
                    user=user,
                    integration_id=form.cleaned_data["integration"].pk,
                    personal_number=None if is_email else identity.value,
                    email=identity.value if is_email else None,
                    auto_sync=form.cleaned_data["auto_sync"],
                )
            except (IdentityNotVerified, IntegrationNotConnectable) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Connected to {connection.integration.name}.")
                return redirect("connection-detail", connection_id=connection.pk)
    return render(
        request,
        "syncing/connection_new.html",
        {
            "form": form,
            "bankid_form": bankid_form,
            "order": order,
            "has_identity": form.fields["identity"].queryset.exists(),
            "has_providers": IdentityProvider.objects.exists(),
            "has_organisation": form.fields["integration"].queryset.exists(),
            "sandbox": settings.SANDBOX_ENABLED,
        },
    )


@login_required
@require_POST
def bankid_simulate(request):
    """Sandbox only: the simulated person signs the BankID order on their phone."""
    if not settings.SANDBOX_ENABLED:
        raise Http404
    integration = organisation_kit_integrations().filter(pk=request.POST.get("integration")).first()
    if integration is None:
        raise Http404
    try:
        kit = OrganisationKitClient.for_integration(integration)
        response = kit.outbound.post(
            "bankid/complete", json={"orderRef": request.POST.get("orderRef")}
        )
    except (PartnerError, OutboundError) as exc:
        return JsonResponse({"signed": False, "detail": str(exc)}, status=502)
    return JsonResponse({"signed": response.status_code == 200}, status=response.status_code)


@login_required
def connection_detail(request, connection_id: int):
    connection = connection_of(user=request.user, connection_id=connection_id)
    # The queue position first: events after it are polled, so a sync that ends between
    # the two reads is still seen ending.
    queue_id, last_event_id = queue_position(user=request.user)
    last_job = connection.sync_jobs.order_by("-id").first()
    accounts = list(connection_accounts(connection=connection))
    # The user's own entries at the partner (one person, usually one id): what they update.
    mine = {
        user.partner_id: user
        for account in accounts
        for user in account.users.all()
        if user.is_hub_user
    }
    return render(
        request,
        "syncing/connection_detail.html",
        {
            "connection": connection,
            "resource": connection_resource(connection),
            "last_job": last_job,
            "is_active": bool(last_job and last_job.status in SyncJob.ACTIVE),
            "accounts": accounts,
            "my_partner_users": list(mine.values()),
            "queue_id": queue_id,
            "last_event_id": last_event_id,
        },
    )


def _sync_answer(request, connections, *, back: str):
    if wants_json(request):
        return JsonResponse(
            {"connections": [{"id": c.pk, "status": "QUEUED"} for c in connections]},
            status=202,
        )
    messages.success(
        request,
        "Sync started: the status changes when it is done."
        if connections
        else "You have no connections to sync.",
    )
    return redirect(back)


def _sync_refused(request, error: IntegrationDisabled, *, back: str):
    """A disabled integration is never called: the page says so (409 to the script)."""
    if wants_json(request):
        return JsonResponse({"detail": str(error)}, status=409)
    messages.error(request, f"Not synced: {error}")
    return redirect(back)


@login_required
@require_POST
def connection_sync(request, connection_id: int):
    connection = connection_of(user=request.user, connection_id=connection_id)
    back = safe_next(request, reverse("connection-detail", args=[connection.pk]))
    try:
        sync_request(connection=connection, kind=SyncJob.Kind.ALL, acting_user=request.user)
    except IntegrationDisabled as error:
        return _sync_refused(request, error, back=back)
    return _sync_answer(request, [connection], back=back)


@login_required
@require_POST
def connections_sync_all(request):
    try:
        connections = sync_now_each(
            connections=connections_with_last_sync(user=request.user), acting_user=request.user
        )
    except IntegrationDisabled as error:
        return _sync_refused(request, error, back="dashboard")
    return _sync_answer(request, connections, back="dashboard")
