"""Web processes keep no state: sessions, the cache, counters and memos are in the database,
so any number of replicas share nothing but it. Tests run on these real backends."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.urls import reverse

from advisor import settings as production_settings

pytestmark = pytest.mark.django_db

cache_table_migration = importlib.import_module("accounts.migrations.0002_cache_table")


def test_tests_run_on_the_production_session_engine_and_cache():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert settings.CACHES == production_settings.CACHES
    assert [config["BACKEND"] for config in settings.CACHES.values()] == [
        "django.core.cache.backends.db.DatabaseCache"
    ]
    assert not hasattr(production_settings, "CACHE_DIR")


def test_a_value_cached_by_one_process_is_read_by_another_through_the_database():
    caches["default"].set("rate-limit:203.0.113.9", 3, timeout=900)
    location = settings.CACHES["default"]["LOCATION"]
    another_process = DatabaseCache(location, {})  # a cache object of its own, same table
    assert another_process.get("rate-limit:203.0.113.9") == 3
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(location)}")
        assert cursor.fetchone()[0] == 1


def test_a_session_ended_in_the_database_is_ended_for_every_process(client, owner):
    client.force_login(owner)
    assert client.get(reverse("project_list")).status_code == 200
    # A logout served by another replica deletes the row: no copy kept anywhere else (a
    # cached session would outlive this) lets the next request in.
    Session.objects.all().delete()
    response = client.get(reverse("project_list"))
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_cache_table_migration_creates_and_drops_the_table():
    table = settings.CACHES["default"]["LOCATION"]
    with connection.schema_editor() as editor:
        cache_table_migration.drop_cache_tables(None, editor)
    assert table not in connection.introspection.table_names()
    with connection.schema_editor() as editor:
        cache_table_migration.create_cache_tables(None, editor)
    assert table in connection.introspection.table_names()
    caches["default"].set("works", True)
    assert caches["default"].get("works") is True
