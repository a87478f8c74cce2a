"""The pages that read and write at the partner, live, for one of the user's connections
(DESIGN.md, "Web UI"): an account's invoices, a service's measurements and cost charted,
updating one's own phone and email, adding guests. Nothing read here is stored."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from integration_hub.charts import finite_number, series_svg
from integration_hub.services.errors import IntegrationDisabled

from ..models import Account
from ..organisation_kit import PartnerError, PartnerRateLimited
from ..selectors import connection_of
from ..services import live

# What keeps a page's live read or write from the partner: the partner failing, or the
# integration being disabled (then never called, and the page says so with a 409).
PARTNER_PROBLEMS = (PartnerError, IntegrationDisabled)


def _problem_status(exc) -> int:
    return 409 if isinstance(exc, IntegrationDisabled) else 502


def partner_problem(exc: PartnerError | IntegrationDisabled) -> str:
    if isinstance(exc, IntegrationDisabled):
        return str(exc)
    if isinstance(exc, PartnerRateLimited) and exc.retry_after:
        return f"The partner is busy; try again in {int(exc.retry_after)} seconds."
    return f"The partner's Organisation Kit failed: {exc}"


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
    connection = connection_of(user=request.user, connection_id=connection_id)
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
    except PARTNER_PROBLEMS as exc:
        problem, status = partner_problem(exc), _problem_status(exc)
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


def _chart(title: str, body: dict, *, unit_key: str, service) -> dict:
    """One live series as the page charts it, with its count and total."""
    points = [
        (p.get("timestamp"), p.get("value"))
        for p in body.get("values") or []
        if isinstance(p, dict) and isinstance(p.get("timestamp"), int)
    ]
    unit = str(body.get(unit_key) or "")
    return {
        "title": title,
        "unit": unit,
        "svg": series_svg(points, title=f"{title} of {service.name}", unit=unit, chart_id=unit_key),
        "count": len(points),
        "total": sum((n for _, v in points if (n := finite_number(v)) is not None), Decimal(0)),
    }


@login_required
def service_detail(request, connection_id: int, service_id: str):
    """A service's measurements (and cost, for owners) over a few days, charted."""
    connection = connection_of(user=request.user, connection_id=connection_id)
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
        except PARTNER_PROBLEMS as exc:
            problems.append(f"{title}: {partner_problem(exc)}")
            status = _problem_status(exc)
            continue
        charts.append(_chart(title, body, unit_key=unit_key, service=service))
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


def _form_write(request, connection, form, *, failed: str, write):
    """A form's write at the partner (`write(cleaned_data)` → the success message), its outcome
    as a message, then back to the connection's page."""
    if not form.is_valid():
        messages.error(request, f"{failed} {_form_errors(form)}")
    else:
        try:
            done = write(form.cleaned_data)
        except live.NotFoundHere as exc:
            raise Http404(str(exc)) from None
        except PARTNER_PROBLEMS as exc:
            messages.error(request, f"{failed} {partner_problem(exc)}")
        else:
            messages.success(request, done)
    return redirect("connection-detail", connection_id=connection.pk)


@login_required
@require_POST
def user_update(request, connection_id: int, user_id: str):
    connection = connection_of(user=request.user, connection_id=connection_id)

    def write(data) -> str:
        live.account_user_update(
            connection=connection,
            user_id=user_id,
            phone_number=data["phone_number"] or None,
            email_address=data["email_address"] or None,
        )
        return "Your contact details are updated at the organisation."

    return _form_write(
        request, connection, ContactForm(request.POST), failed="Not saved.", write=write
    )


@login_required
@require_POST
def guest_add(request, connection_id: int, account_id: str):
    connection = connection_of(user=request.user, connection_id=connection_id)

    def write(data) -> str:
        live.account_guest_add(
            connection=connection,
            account_id=account_id,
            name=data["name"],
            email_address=data["email_address"],
            phone_number=data["phone_number"],
        )
        return f"{data['name']} is now a guest."

    return _form_write(
        request, connection, GuestForm(request.POST), failed="No guest added.", write=write
    )
