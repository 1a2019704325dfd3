"""Settings come from the environment; production refuses to start without a real key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def django_check(**env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("secret", [None, "", "django-insecure-advisor-local-development-only"])
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    env = {"DEBUG": "0"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    completed = django_check(**env)
    assert completed.returncode != 0
    assert "SECRET_KEY is missing or is the development default" in completed.stderr


def test_production_starts_with_a_real_secret_key():
    completed = django_check(DEBUG="0", SECRET_KEY="a-real-and-long-secret-" + "x" * 40)
    assert completed.returncode == 0, completed.stderr


def test_local_use_needs_no_configuration():
    completed = django_check()
    assert completed.returncode == 0, completed.stderr
