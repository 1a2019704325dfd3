"""The database cache's table (settings.CACHES: DatabaseCache, shared by every web process).

A migration, so that everything that migrates gets it: `make run`, `make test`, the compose
`migrate` service and the test database. createcachetable skips a table that exists.
"""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations

DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"


def create_cache_tables(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_tables(apps, schema_editor) -> None:
    for config in settings.CACHES.values():
        if config["BACKEND"] == DATABASE_CACHE:
            schema_editor.execute(
                f"DROP TABLE IF EXISTS {schema_editor.quote_name(config['LOCATION'])}"
            )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_quota_counter")]

    operations = [migrations.RunPython(create_cache_tables, drop_cache_tables, elidable=False)]
