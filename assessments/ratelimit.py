"""A fixed-window failure counter per client, kept in the shared cache."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


def _key(scope: str, request: HttpRequest) -> str:
    return f"ratelimit:{scope}:{client_address(request)}"


def is_blocked(scope: str, request: HttpRequest, limit: int) -> bool:
    return cache.get(_key(scope, request), 0) >= limit


def reset(scope: str, request: HttpRequest) -> None:
    cache.delete(_key(scope, request))


def record_failure(scope: str, request: HttpRequest, window_seconds: int) -> int:
    key = _key(scope, request)
    if cache.add(key, 1, timeout=window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        return 1
