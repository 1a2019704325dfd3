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


def env_example_secret_key() -> str:
    text = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    lines = text.splitlines()
    return next(line.split("=", 1)[1] for line in lines if line.startswith("SECRET_KEY="))


@pytest.mark.parametrize(
    "secret",
    [None, "", "django-insecure-advisor-local-development-only", env_example_secret_key()],
    ids=["unset", "empty", "development default", ".env.example placeholder"],
)
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


@pytest.mark.parametrize("name", ["SECURE_PROXY_SSL", "DEBUG", "TRUST_X_FORWARDED_FOR"])
def test_a_boolean_that_is_neither_true_nor_false_stops_start_up(name):
    completed = django_check(**{name: "ture"})
    assert completed.returncode != 0
    assert f"{name}='ture' is neither true nor false" in completed.stderr


@pytest.mark.parametrize(("value", "debug"), [("Yes", True), (" off ", False), ("", True)])
def test_booleans_accept_the_usual_spellings_and_empty_means_the_default(value, debug):
    completed = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "advisor.settings",
            "DEBUG": value,
            "SECRET_KEY": "a-real-and-long-secret-" + "x" * 40,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(debug)
