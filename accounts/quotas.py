"""Quotas: how often one client may do one thing in a window, counted in the database.

Every web process and replica sees the same counts (they live in PostgreSQL, or SQLite
locally), an increment is atomic (the row is locked while it is read and written), and a
window lasts exactly as long as it says: it starts at the first attempt and ends `window`
seconds later, whatever else the database is doing. Sign-in lockouts are django-axes's; these
cover the rest (share-token guessing, sign-up, imports, PDF renders, ...).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import QuotaCounter


@dataclass(frozen=True)
class Quota:
    """At most `limit` attempts per `window` seconds for each key of `scope`."""

    scope: str
    limit: int
    window: int

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again: 0 while it is under the limit."""
        counter = QuotaCounter.objects.filter(scope=self.scope, key=_digest(key)).first()
        if counter is None or counter.count < self.limit:
            return 0
        return _seconds_left(counter, self.window)

    def record(self, key: str) -> int:
        """Counts one attempt by `key`; returns the count in the current window."""
        now = timezone.now()
        with transaction.atomic():
            counter, created = QuotaCounter.objects.select_for_update().get_or_create(
                scope=self.scope, key=_digest(key), defaults={"window_start": now}
            )
            if counter.window_start + timedelta(seconds=self.window) <= now:
                counter.window_start, counter.count = now, 0
            counter.count += 1
            counter.save(update_fields=["window_start", "count"])
        if created:  # a new key: a good moment to forget the keys whose windows have ended
            self._prune(now)
        return counter.count

    def take(self, key: str) -> int:
        """Counts one attempt unless `key` is over the limit: 0 when it was counted (go on),
        else the seconds until it may try again (refuse, count nothing)."""
        wait = self.retry_after(key)
        if wait:
            return wait
        if self.record(key) > self.limit:  # another request took the last one meanwhile
            return self.retry_after(key) or 1
        return 0

    def clear(self, key: str) -> None:
        QuotaCounter.objects.filter(scope=self.scope, key=_digest(key)).delete()

    def _prune(self, now) -> None:
        ended = now - timedelta(seconds=self.window)
        QuotaCounter.objects.filter(scope=self.scope, window_start__lte=ended).delete()


def client_address(request: HttpRequest) -> str:
    """The client's address: the proxy's X-Forwarded-For entry when the app sits behind one
    (the last entry is the one our proxy appended; anything before it is the client's word)."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _seconds_left(counter: QuotaCounter, window: int) -> int:
    ends = counter.window_start + timedelta(seconds=window)
    return max(0, math.ceil((ends - timezone.now()).total_seconds()))


def wait_text(seconds: int) -> str:
    """A wait in words, rounded up so that it is never shorter than the real one."""
    if seconds < 90:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    if seconds < 90 * 60:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def too_many(request: HttpRequest, wait: int, message: str) -> HttpResponse:
    """429 with the real wait, in Retry-After and in words: `message` says what was refused
    and may use {wait}. Nothing was done or counted."""
    context = {"message": message.format(wait=wait_text(wait))}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response
