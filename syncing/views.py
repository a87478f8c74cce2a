"""The web pages of inbound sync for business owners (DESIGN.md, "Web UI"): connect to an
organisation, follow a sync live, browse the mirrored accounts, read invoices and
measurements live from the partner, update one's own phone and email, add guests, and read
notifications. Every page shows the signed-in user's own connections only.

Buttons that start syncs are plain forms; the page's script sends them with fetch (asking for
JSON) and then follows the sync through the user's event queue, so nothing reloads.
"""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from integration_hub.charts import finite_number, series_svg
from integration_hub.models import Integration
from integration_hub.outbound import OutboundError
from integration_hub.views import safe_next, wants_json

from .models import Account, SyncJob, VerifiedIdentity
from .organisation_kit import (
    OrganisationKitClient,
    PartnerError,
    PartnerRateLimited,
)
from .selectors import (
    connection_accounts,
    connection_get,
    connection_resource,
    connections_with_last_sync,
    notification_list,
    organisation_kit_integrations,
    queue_position,
)
from .services import live
from .services.connections import (
    IdentityNotVerified,
    IntegrationNotConnectable,
    connection_create,
)
from .services.identities import identity_bankid_start
from .services.notifications import notification_mark_read
from .services.sync_jobs import sync_request

PERSONAL_NUMBER = r"^[0-9]{10,12}$"


def _own_connection(request, connection_id: int):
    connection = connection_get(user=request.user, connection_id=connection_id)
    if connection is None:
        raise Http404("No such connection of yours.")
    return connection


def _partner_problem(exc: PartnerError) -> str:
    if isinstance(exc, PartnerRateLimited) and exc.retry_after:
        return f"The partner is busy; try again in {int(exc.retry_after)} seconds."
    return f"The partner's Organisation Kit failed: {exc}"


class ConnectionForm(forms.Form):
    integration = forms.ModelChoiceField(queryset=Integration.objects.none(), label="Organisation")
    identity = forms.ModelChoiceField(
        queryset=VerifiedIdentity.objects.none(),
        label="Connect as",
        help_text="One of your verified identities: the organisation finds your accounts by it.",
    )
    auto_sync = forms.BooleanField(
        required=False, initial=True, label="Sync automatically every day"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = organisation_kit_integrations()
        self.fields["identity"].queryset = VerifiedIdentity.objects.filter(user=user)
        self.fields["identity"].label_from_instance = lambda identity: (
            f"{identity.get_kind_display()} {identity.value}"
        )


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
                bankid_form.add_error(None, _partner_problem(exc))
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
    connection = _own_connection(request, connection_id)
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


@login_required
@require_POST
def connection_sync(request, connection_id: int):
    connection = _own_connection(request, connection_id)
    sync_request(connection=connection, kind=SyncJob.Kind.ALL, acting_user=request.user)
    back = safe_next(request, reverse("connection-detail", args=[connection.pk]))
    return _sync_answer(request, [connection], back=back)


@login_required
@require_POST
def connections_sync_all(request):
    connections = connections_with_last_sync(user=request.user)
    for connection in connections:
        sync_request(connection=connection, kind=SyncJob.Kind.ALL, acting_user=request.user)
    return _sync_answer(request, connections, back="dashboard")


class DateRangeForm(forms.Form):
    from_date = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    to_date = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def range(self, *, default_days: int, max_days: int):
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        to_date = data.get("to_date") or today
        from_date = data.get("from_date") or to_date - timedelta(days=default_days - 1)
        if from_date > to_date or (to_date - from_date).days >= max_days:
            self.add_error(
                "from_date", f"From must be before To, and at most {max_days} days before it."
            )
            to_date, from_date = today, today - timedelta(days=default_days - 1)
        return from_date, to_date


@login_required
def account_invoices(request, connection_id: int, account_id: str):
    connection = _own_connection(request, connection_id)
    dates = DateRangeForm(request.GET or None)
    from_date, to_date = dates.range(
        default_days=live.INVOICE_DAYS_DEFAULT, max_days=live.INVOICE_DAYS_MAX
    )
    invoices, problem, status = [], "", 200
    try:
        account = live.connection_account(connection=connection, account_id=account_id)
        invoices = live.invoices_live(
            connection=connection, account_id=account_id, from_date=from_date, to_date=to_date
        )
    except live.NotFoundHere as exc:
        raise Http404(str(exc)) from None
    except PartnerError as exc:
        problem, status = _partner_problem(exc), 502
    return render(
        request,
        "syncing/account_invoices.html",
        {
            "connection": connection,
            "account": account,
            "invoices": invoices,
            "problem": problem,
            "dates": dates,
            "from_date": from_date,
            "to_date": to_date,
        },
        status=status,
    )


@login_required
def service_detail(request, connection_id: int, service_id: str):
    """A service's measurements (and cost, for owners) over a few days, charted."""
    connection = _own_connection(request, connection_id)
    try:
        service = live.connection_service(connection=connection, service_id=service_id)
    except live.NotFoundHere as exc:
        raise Http404(str(exc)) from None
    dates = DateRangeForm(request.GET or None)
    from_date, to_date = dates.range(
        default_days=live.SERIES_DAYS_DEFAULT, max_days=live.SERIES_DAYS_MAX
    )
    is_owner = service.location.account.role == Account.Role.OWNER
    charts, problems, status = [], [], 200
    reads = [("Measurements", live.measurements_live, "unit")]
    if is_owner:
        reads.append(("Cost", live.cost_live, "currency"))
    for title, read, unit_key in reads:
        try:
            body = read(
                connection=connection, service_id=service_id, from_date=from_date, to_date=to_date
            )
        except live.NotFoundHere:
            continue
        except PartnerError as exc:
            problems.append(f"{title}: {_partner_problem(exc)}")
            status = 502
            continue
        points = [
            (p.get("timestamp"), p.get("value"))
            for p in body.get("values") or []
            if isinstance(p, dict) and isinstance(p.get("timestamp"), int)
        ]
        unit = str(body.get(unit_key) or "")
        charts.append(
            {
                "title": title,
                "unit": unit,
                "svg": series_svg(
                    points, title=f"{title} of {service.name}", unit=unit, chart_id=unit_key
                ),
                "count": len(points),
                "total": sum(
                    (n for _, v in points if (n := finite_number(v)) is not None), Decimal(0)
                ),
            }
        )
    return render(
        request,
        "syncing/service_detail.html",
        {
            "connection": connection,
            "service": service,
            "is_owner": is_owner,
            "charts": charts,
            "problems": problems,
            "dates": dates,
            "from_date": from_date,
            "to_date": to_date,
        },
        status=status,
    )


class ContactForm(forms.Form):
    phone_number = forms.RegexField(
        live.PHONE_NUMBER,
        required=False,
        label="Phone number",
        error_messages={"invalid": "Enter a phone number: digits, spaces, + ( ) -."},
    )
    email_address = forms.EmailField(required=False, label="Email address")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone_number") and not cleaned.get("email_address"):
            raise forms.ValidationError("Give a phone number, an email address or both.")
        return cleaned


class GuestForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    email_address = forms.EmailField(required=False, label="Email address")
    phone_number = forms.RegexField(
        live.PHONE_NUMBER,
        required=False,
        label="Phone number",
        error_messages={"invalid": "Enter a phone number: digits, spaces, + ( ) -."},
    )


def _form_errors(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)


@login_required
@require_POST
def user_update(request, connection_id: int, user_id: str):
    connection = _own_connection(request, connection_id)
    form = ContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not saved. {_form_errors(form)}")
    else:
        try:
            live.account_user_update(
                connection=connection,
                user_id=user_id,
                phone_number=form.cleaned_data["phone_number"] or None,
                email_address=form.cleaned_data["email_address"] or None,
            )
            messages.success(request, "Your contact details are updated at the organisation.")
        except live.NotFoundHere as exc:
            raise Http404(str(exc)) from None
        except PermissionDenied:
            raise
        except PartnerError as exc:
            messages.error(request, f"Not saved. {_partner_problem(exc)}")
    return redirect("connection-detail", connection_id=connection.pk)


@login_required
@require_POST
def guest_add(request, connection_id: int, account_id: str):
    connection = _own_connection(request, connection_id)
    form = GuestForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"No guest added. {_form_errors(form)}")
    else:
        try:
            live.account_guest_add(
                connection=connection,
                account_id=account_id,
                name=form.cleaned_data["name"],
                email_address=form.cleaned_data["email_address"],
                phone_number=form.cleaned_data["phone_number"],
            )
            messages.success(request, f"{form.cleaned_data['name']} is now a guest.")
        except live.NotFoundHere as exc:
            raise Http404(str(exc)) from None
        except PartnerError as exc:
            messages.error(request, f"No guest added. {_partner_problem(exc)}")
    return redirect("connection-detail", connection_id=connection.pk)


@login_required
def notifications(request):
    return render(
        request,
        "syncing/notifications.html",
        {"notifications": list(notification_list(user=request.user)[:100])},
    )


@login_required
@require_POST
def notification_read(request, notification_id: int):
    notification = notification_list(user=request.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404("No such notification of yours.")
    notification_mark_read(notification=notification)
    return redirect(safe_next(request, "notifications"))
