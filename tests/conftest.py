import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from assessments.report_bodies import clear_report_bodies
from assessments.rubric import load_rubric

# CI replays the same examples on every run, so a run that lands is reproducible; on a
# developer's machine each run explores new ones (`HYPOTHESIS_PROFILE=default` in CI too).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_test_scenarios() -> list[dict[str, Any]]:
    with open(DATA_DIR / "scenarios.json", encoding="utf-8") as handle:
        return json.load(handle)["scenarios"]


@pytest.fixture
def user(django_user_model):
    """A user without a password (force_login is fast; hashing is not)."""
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def owner_client(client, user):
    """The test client, signed in as `user` (idle clock just restarted, so query counts of
    its first requests are those of any later request)."""
    client.force_login(user)
    session = client.session
    session["_idle_refreshed_at"] = int(time.time())
    session.save()
    return client


@pytest.fixture
def rubric():
    return load_rubric()


@pytest.fixture
def complete_answers() -> dict[str, Any]:
    """A valid, complete answer set (the support-bot scenario: hybrid, ready)."""
    return dict(next(s for s in load_test_scenarios() if s["id"] == "support-bot")["answers"])


@pytest.fixture(autouse=True)
def _isolated_caches(settings, tmp_path):
    """Each test gets empty caches of its own (rate-limit counters, sessions, memos, report
    bodies)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                    "LOCATION": f"default-{tmp_path.name}"},
        "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                     "LOCATION": f"sessions-{tmp_path.name}"},
        "memos": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "LOCATION": f"memos-{tmp_path.name}"},
    }  # fmt: skip
    clear_report_bodies()
    yield
