"""Admin for the core records: customers (with notes) and orders, plus batch import uploads.

Saves go through the services, so the admin's changes send the same domain signals as the
API and batch imports."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path

from integration_hub.batch_import import ImportFileError, customers_import, orders_import
from integration_hub.models import Customer, CustomerNote, Order, OrderItem, OrderPayment
from integration_hub.services import customers as customer_services


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="A .csv file with a header row, or a .jsonl file.")


class BatchImportMixin:
    """An "Import" page beside the change list that streams the uploaded file through the
    batch importer and shows what applied and what was rejected, line by line."""

    importer = None
    import_title = ""
    change_list_template = "admin/integration_hub/import_change_list.html"

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        view = path(
            "import/",
            self.admin_site.admin_view(self.import_view),
            name="{}_{}_import".format(*info),
        )
        return [view, *super().get_urls()]

    def has_import_permission(self, request) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        report = error = None
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = type(self).importer(
                    source=upload.file, name=upload.name, acting_user=request.user
                )
            except ImportFileError as exc:
                error = str(exc)
            else:
                level = messages.SUCCESS if not report.rejected else messages.WARNING
                messages.add_message(request, level, f"{upload.name}: {report.summary()}.")
        context = {
            **self.admin_site.each_context(request),
            "title": self.import_title,
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "file_error": error,
            "help": type(self).importer.__doc__,
        }
        return TemplateResponse(request, "admin/integration_hub/import.html", context)


class CustomerNoteInline(admin.TabularInline):
    """Notes are added, never edited: a note is part of the customer's history."""

    model = CustomerNote
    extra = 1
    fields = ("text", "created_at")
    readonly_fields = ("created_at",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["subscriber", "customer_id", *customer_services.CUSTOMER_FIELDS]


@admin.register(Customer)
class CustomerAdmin(BatchImportMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    importer = staticmethod(customers_import)
    import_title = "Import customers"
    list_display = ("customer_id", "first_name", "last_name", "email", "subscriber", "updated_at")
    list_filter = ("subscriber", "prospect", "segments")
    search_fields = ("customer_id", "first_name", "last_name", "email")
    list_select_related = ("subscriber",)
    show_full_result_count = False
    inlines = [CustomerNoteInline]
    actions = ["merge_selected"]

    def get_readonly_fields(self, request, obj=None):
        return ("subscriber", "customer_id") if obj else ()

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in customer_services.CUSTOMER_FIELDS
            if name in form.cleaned_data
        }
        if change:
            changed = {name: fields[name] for name in form.changed_data if name in fields}
            saved = customer_services.customer_update(
                customer=Customer.objects.get(pk=obj.pk), **changed
            )
        else:
            saved = customer_services.customer_create(
                subscriber=form.cleaned_data["subscriber"],
                customer_id=form.cleaned_data["customer_id"],
                **fields,
            )
        obj.pk = saved.pk

    def save_formset(self, request, form, formset, change):
        for note in formset.save(commit=False):
            if note.pk is None:
                customer_services.customer_note_add(customer=form.instance, text=note.text)

    def delete_model(self, request, obj):
        customer_services.customer_delete(customer=obj)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            customer_services.customer_delete(customer=customer)

    @admin.action(description="Merge selected customers into a new one", permissions=["change"])
    def merge_selected(self, request, queryset):
        subscribers = set(queryset.values_list("subscriber_id", flat=True))
        if len(subscribers) != 1:
            self.message_user(
                request, "Merge customers of one subscriber at a time.", messages.ERROR
            )
            return
        ids = list(queryset.order_by("created_at", "id").values_list("customer_id", flat=True))
        try:
            merged = customer_services.customer_merge(
                subscriber=queryset.first().subscriber, customer_ids=ids
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, f"Merged {', '.join(ids)} into {merged.customer_id}.")


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = (
        "sequence",
        "description",
        "revenue_category",
        "tax_rate",
        "quantity",
        "unit_price",
        "net_amount",
        "tax_amount",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderPaymentInline(admin.TabularInline):
    model = OrderPayment
    extra = 0
    can_delete = False
    fields = ("sequence", "payment_method", "amount")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(BatchImportMixin, admin.ModelAdmin):
    """Orders are posted by the point of sale (API or import) and looked at here."""

    importer = staticmethod(orders_import)
    import_title = "Import orders"
    list_display = (
        "retail_transaction_id",
        "business_date",
        "customer",
        "total",
        "currency",
        "subscriber",
    )
    list_filter = ("subscriber", "currency")
    date_hierarchy = "business_date"
    search_fields = ("retail_transaction_id", "customer__customer_id")
    list_select_related = ("customer", "subscriber")
    show_full_result_count = False
    inlines = [OrderItemInline, OrderPaymentInline]
    readonly_fields = (
        "subscriber",
        "retail_transaction_id",
        "customer",
        "business_date",
        "currency",
        "subtotal",
        "tax_total",
        "total",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # orders come from the point of sale: the API or an import

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
