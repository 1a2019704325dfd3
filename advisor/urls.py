from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # Staff sign in through the same form as everyone else, with its lockouts and two-factor.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="admin_login",
    ),
    path("admin/", admin.site.urls),
    # Accounts: django-allauth's pages (sign-up, sign-in, email, password, two-factor,
    # sessions), in our templates (accounts/templates/).
    path("accounts/", include("allauth.urls")),
    path("", include("assessments.urls")),
]
