"""System settings cache: 10,000 reads of DataSyncEnabled through `setting_get` (cached, with
its version check at most once a second) against 10,000 direct database reads of the same row.

Prints the ratio of the two times (cached ÷ direct, and how many times faster the cache is),
measured in the same run on a temporary SQLite database. Never asserts.

    .venv/bin/python bench/settings_cache.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_setup

READS = 10_000
KEY = "DataSyncEnabled"


def cached_reads() -> float:
    from integration_hub.system_settings import setting_get, settings_cache_clear

    settings_cache_clear()
    assert setting_get(KEY) is True  # warm: the first read loads every setting
    start = time.perf_counter()
    for _ in range(READS):
        setting_get(KEY)
    return time.perf_counter() - start


def direct_reads() -> float:
    from integration_hub.models import SystemSetting

    assert SystemSetting.objects.get(key=KEY).value == "true"
    start = time.perf_counter()
    for _ in range(READS):
        SystemSetting.objects.get(key=KEY).value  # noqa: B018 (the read is what is timed)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-settings-") as workdir:
        django_setup(Path(workdir))
        from integration_hub.services.system_settings import setting_set

        setting_set(key=KEY, value="true")
        cached = cached_reads()
        direct = direct_reads()
    print(f"settings cache: {READS:,} reads of {KEY}")
    print(f"  through setting_get (cached)  {cached * 1000:9.1f} ms")
    print(f"  direct database reads         {direct * 1000:9.1f} ms")
    print(f"  cached ÷ direct = {cached / direct:.4f}")
    print(f"  direct ÷ cached = {direct / cached:.0f} (how many times faster the cache is)")


if __name__ == "__main__":
    main()
