"""Batch import: time and peak memory for 10,000 and 100,000 customer rows.

Prints the growth ratios (10x the rows should cost at most about 11x the time, and memory
should stay flat because rows stream from the file). Never asserts: read the numbers.

    .venv/bin/python bench/import_customers.py
"""

import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_setup


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Action", "customerId", "firstName", "lastName", "email", "phone"])
        for n in range(rows):
            writer.writerow(
                ["AddorUpdate", f"B{n:07d}", "Ada", "Lovelace", f"ada{n}@example.com", "+46700000"]
            )


def run(path: Path) -> tuple[float, int, str]:
    from integration_hub.batch_import import customers_import
    from integration_hub.models import Customer

    Customer.objects.all().delete()
    started = time.perf_counter()
    report = customers_import(source=path)
    elapsed = time.perf_counter() - started
    # Peak resident memory of the process so far (KiB on Linux): flat when rows stream.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return elapsed, peak, report.summary()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        django_setup(workdir)
        results = {}
        for rows in (10_000, 100_000):
            path = workdir / f"customers-{rows}.csv"
            write_file(path, rows)
            results[rows] = run(path)
            elapsed, peak, summary = results[rows]
            print(f"{rows:>7} rows: {elapsed:6.2f} s, {rows / elapsed:7.0f} rows/s, "
                  f"peak resident memory {peak / 1e6:5.1f} MB ({summary})")  # fmt: skip
        (t1, m1, _), (t10, m10, _) = results[10_000], results[100_000]
        print(f"time ratio for 10x the rows:   {t10 / t1:5.2f}x (budget <= 11x)")
        print(f"memory ratio for 10x the rows: {m10 / m1:5.2f}x (flat is about 1x: rows stream)")


if __name__ == "__main__":
    main()
