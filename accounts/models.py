from django.db import models


class QuotaCounter(models.Model):
    """How many times one client did one thing in the current window (accounts.quotas).

    A row per (scope, key): the key is a digest, never the raw address or name, so user input
    never shapes what is stored and a row says nothing about who it counts."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="one_counter_per_key")]
        indexes = [models.Index(fields=["scope", "window_start"], name="quota_scope_window")]

    def __str__(self) -> str:
        return f"{self.scope}: {self.count} since {self.window_start:%Y-%m-%d %H:%M:%S}"
