"""accounts.quotas: counters in the database with real windows, atomic across workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory, override_settings
from django.utils import timezone

from accounts.models import QuotaCounter
from accounts.quotas import Quota, client_address
from tests.test_concurrency import run_together

pytestmark = pytest.mark.django_db

GUESSES = Quota("test-guesses", limit=3, window=900)


def test_a_key_under_its_limit_may_go_on():
    assert GUESSES.record("10.0.0.1") == 1
    assert GUESSES.record("10.0.0.1") == 2
    assert GUESSES.retry_after("10.0.0.1") == 0


def test_a_key_at_its_limit_waits_until_its_window_ends():
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            GUESSES.record("10.0.0.1")
        assert GUESSES.retry_after("10.0.0.1") == 900
    with time_machine.travel(start + timedelta(seconds=600), tick=False):
        assert GUESSES.retry_after("10.0.0.1") == 300


def test_a_window_outlasts_300_seconds_and_ends_when_it_says():
    """The file cache's incr() once cut every window to its default 300 s."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            GUESSES.record("10.0.0.1")
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        assert GUESSES.retry_after("10.0.0.1") == 599
    with time_machine.travel(start + timedelta(seconds=899), tick=False):
        assert GUESSES.retry_after("10.0.0.1") == 1
    with time_machine.travel(start + timedelta(seconds=900), tick=False):
        assert GUESSES.retry_after("10.0.0.1") == 0
        assert GUESSES.record("10.0.0.1") == 1  # a new window


def test_attempts_inside_a_window_do_not_extend_it():
    start = timezone.now()
    for offset in (0, 200, 400):
        with time_machine.travel(start + timedelta(seconds=offset), tick=False):
            GUESSES.record("10.0.0.1")
    with time_machine.travel(start + timedelta(seconds=400), tick=False):
        assert GUESSES.retry_after("10.0.0.1") == 500


def test_keys_and_scopes_are_counted_apart():
    other_scope = Quota("test-other", limit=3, window=900)
    for _ in range(3):
        GUESSES.record("10.0.0.1")
    assert GUESSES.retry_after("10.0.0.2") == 0
    assert other_scope.retry_after("10.0.0.1") == 0


def test_take_counts_until_the_limit_then_refuses_without_counting():
    assert [GUESSES.take("10.0.0.1") for _ in range(3)] == [0, 0, 0]
    assert GUESSES.take("10.0.0.1") == 900
    assert QuotaCounter.objects.get(scope="test-guesses").count == 3


def test_clear_forgets_a_key():
    for _ in range(3):
        GUESSES.record("10.0.0.1")
    GUESSES.clear("10.0.0.1")
    assert GUESSES.retry_after("10.0.0.1") == 0


def test_the_stored_key_is_a_digest_never_the_address():
    GUESSES.record("10.0.0.1")
    stored = QuotaCounter.objects.get()
    assert "10.0.0.1" not in stored.key and len(stored.key) == 64


def test_a_new_key_forgets_keys_whose_windows_ended():
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        GUESSES.record("10.0.0.1")
    with time_machine.travel(start + timedelta(seconds=901), tick=False):
        GUESSES.record("10.0.0.2")
    assert QuotaCounter.objects.count() == 1


def test_the_client_address_is_the_proxys_last_entry_only_when_trusted():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2"
    )
    assert client_address(request) == "10.0.0.9"
    with override_settings(TRUST_X_FORWARDED_FOR=True):
        assert client_address(request) == "2.2.2.2"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
def test_attempts_from_many_workers_at_once_are_all_counted():
    """8 workers x 5 attempts: every one counted (the file cache's counters lost some)."""
    many = Quota("test-many", limit=1000, window=900)

    def five_attempts() -> None:
        for _ in range(5):
            many.record("10.0.0.1")

    outcomes = run_together([five_attempts] * 8)
    assert [kind for kind, _ in outcomes] == ["ok"] * 8
    assert QuotaCounter.objects.get(scope="test-many").count == 40
