from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """What is ours of accounts: templates, allauth adapter and forms, lockout and quota
    code, and the session middleware (allauth and django-axes do the rest)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401  (registers the deploy checks)
