from typing import Any

from django.core.management.base import BaseCommand

from assessments.examples import load_examples


class Command(BaseCommand):
    help = "Load the framework's worked scenarios as read-only example projects (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created, updated = load_examples()
        if created or updated or options["verbosity"] > 1:
            self.stdout.write(f"Examples: {created} created, {updated} updated.")
