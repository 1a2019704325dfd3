"""How allauth treats our users (settings.ACCOUNT_ADAPTER)."""

from __future__ import annotations

import unicodedata

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.lockouts import client_ip


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # allauth's "Please type your current password." reads as if nothing had been typed.
        "enter_current_password": "That is not your current password.",
    }

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's rate limits and session list use: the one the lockouts and
        quotas use (accounts.quotas.client_address), never a header the client chose."""
        address = client_ip(request)
        if address is None:
            raise PermissionDenied("Unable to determine the client address")
        return address

    def clean_username(self, username: str, shallow: bool = False) -> str:
        """Look-alike spellings are one username: "ａｌｉｃｅ" (full-width) signs up as "alice",
        as Django's own forms have always stored it (NFKC), so it is refused if "alice" exists."""
        return super().clean_username(unicodedata.normalize("NFKC", username), shallow=shallow)

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        user = super().save_user(request, user, form, commit)
        messages.success(request, "Welcome to Advisor. Create your first project.")
        return user
