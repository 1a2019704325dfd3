"""Benchmark: the PDF memo's first render (target < 1 s) and a download of a memo already
rendered, served from the database (< 20 ms).

Server time through Django's test client, against the configured database (SQLite by
default), using the worked examples.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from assessments.models import RenderedMemo  # noqa: E402

FIRST_TARGET_S = 1.0
CACHED_TARGET_MS = 20.0
EXAMPLES = ["support-bot", "early-voice-and-docs", "offline-car-voice"]


def timed_get(client: Client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> int:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("load_examples", verbosity=0)
    RenderedMemo.objects.all().delete()  # so that each first download renders
    client = Client()
    timed_get(client, "/")  # warm up imports, templates and fonts once
    ok = True
    for key in EXAMPLES:
        url = f"/examples/{key}/memo.pdf"
        first = timed_get(client, url)
        cached = [timed_get(client, url) * 1000 for _ in range(30)]
        median = statistics.median(cached)
        ok &= first < FIRST_TARGET_S and median < CACHED_TARGET_MS
        print(f"{key:<22} first render {first:6.3f} s   cached median {median:6.2f} ms")
    print(
        f"targets: first < {FIRST_TARGET_S} s, cached < {CACHED_TARGET_MS} ms: "
        + ("OK" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
