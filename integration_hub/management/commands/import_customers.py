from django.core.management.base import BaseCommand

from integration_hub.batch_import import ImportFileError, customers_import


class Command(BaseCommand):
    help = (
        "Import customers from a CSV file (header row of the API's camelCase field names, plus "
        "Action = Add | AddorUpdate | Delete | Merge; a Merge row names customerIds separated "
        "by ;) or JSON lines (.jsonl). Exit status: 0 all applied, 1 some rows rejected, "
        "2 the file could not be read."
    )
    importer = staticmethod(customers_import)

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            report = self.importer(source=file)
        except ImportFileError as exc:
            self.stderr.write(f"{file}: {exc}")
            raise SystemExit(2) from None
        for error in report.errors:
            self.stderr.write(f"{file}: {error}")
        if report.rejected > len(report.errors):
            self.stderr.write(f"{file}: ... and {report.rejected - len(report.errors)} more")
        self.stdout.write(f"{file}: {report.summary()}")
        if report.exit_status:
            raise SystemExit(report.exit_status)
