from integration_hub.batch_import import orders_import

from .import_customers import Command as ImportCommand


class Command(ImportCommand):
    help = (
        "Import orders from a CSV file (one row per item, order columns repeated on each row, "
        "payments written VISA:21.60;CASH:5.00) or JSON lines with the API's order bodies. "
        "Exit status: 0 all applied, 1 some orders rejected, 2 the file could not be read."
    )
    importer = staticmethod(orders_import)
