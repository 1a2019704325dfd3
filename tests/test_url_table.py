"""Every URL of the site in one table: for each role and each way of asking, what it gets.

The table is checked against the URLconf itself (walked recursively), so a new URL pattern
without a row here fails the suite, and so does a row for a URL that no longer exists.
Everything under admin/ is one entry, "admin", tested through a few representative pages.

Roles: "anonymous" (no session), "other_user" (logged in, owns a project of their own,
world.foreign_assessment, but nothing of the owner's), "viewer" and "editor" (logged in,
members of the owner's world.project with that role, and of nothing else), "owner" (owns the
project, its assessment and its share link) and "share_holder" (no session, holds a valid
share token of the owner's assessment; everywhere but the token routes it is just
anonymous). A share URL is a bearer capability: every role requests the token routes with the
valid token, and with a bogus one in a separate test.

Methods: "GET", "POST", and "HTMX", a POST sent by htmx (HX-Request: true). Unless a row
says otherwise an htmx POST gets what a plain POST gets, except that a redirect to the
sign-in page becomes a 204 whose HX-Redirect sends the whole page there.

Every URL that takes an id is reached through a role (rows made with `members()`): members
of the project with at least the role a method needs get the row's outcome; members below it
and other_user a 404 (a 405 for a method the view refuses before looking anything up);
without a session, the login page. These rows are also requested by everyone else without
that role on the object: staff, any user on the read-only worked example, members on the
owner's other project or once the project is flagged as an example, a member just removed,
the owner on ids that do not exist. Each of them gets exactly what other_user gets. Every
page a member gets shows only controls (links, forms) their role may use.

The account pages (django-allauth, under accounts/) are each signed-in user's own: anyone
without a session is sent to sign in, and every signed-in role gets their own account. Where
the owner's differs (two-factor pages, a reset or confirmation link made for the owner), it
is because the owner has something the others have not; no account page takes an id.

POST bodies are ones the owner's request would succeed with, so a refusal proves access
control, not validation. Apart from the writes a row names, nothing may change in the
database (a GET of the shared report may only bump that link's view counter); each write a
row names must have the row's `effect`.
"""

import dataclasses
import html
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import Resolver404, URLResolver, get_resolver, resolve, reverse

from assessments import pdf
from assessments.models import (
    ROLE_LEVELS,
    Answer,
    AnswerNote,
    Assessment,
    Membership,
    Milestone,
    Project,
    ShareLink,
    SignOff,
)
from assessments.pdf import MEMO_TEMPLATE
from assessments.sharing import create_share_link
from assessments.transfer import export_project
from assessments.views.sharing import SHARED_HEADERS
from tests.conftest import SECRET, World
from tests.factories import UserFactory, loaded, stored_answers
from tests.test_two_factor_and_sessions import totp

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "other_user", "viewer", "editor", "owner", "share_holder")
METHODS = ("GET", "POST", "HTMX")
ANONYMOUS_ROLES = ("anonymous", "share_holder")
MEMBER_ROLES = ("viewer", "editor", "owner")  # of world.project, lowest first
NOT_THE_OWNERS = ("other_user", "viewer", "editor")  # signed in, not owning world.project
VIEWER, EDITOR, OWNER = MEMBER_ROLES
PASSWORD = "plum-Harbour-42-kite"
NEW_PASSWORD = "violet-Canyon-77-reef"
BOGUS_TOKEN = "this-is-not-a-share-token-0123456789abcdefghijk"
MISSING_PK = 999_999
NOT_YOURS = "not yours to see"  # what every 404 page says


@pytest.fixture(autouse=True)
def _fast_hashing_and_high_rate_limits(settings, fast_password_hashing):
    """Only the logins and the password change hash a password; rate limits would otherwise
    turn the expected outcome into a 429. WhiteNoise stays in the stack but looks static files
    up on request instead of indexing them all for each test's new client."""
    settings.WHITENOISE_AUTOREFRESH = True
    settings.SHARE_BAD_TOKEN_LIMIT = 1000
    settings.LOGIN_FAILURE_LIMIT = 1000
    settings.LOGIN_IP_LIMIT = 1000
    settings.LOGIN_USERNAME_LIMIT = 1000
    settings.SIGNUP_LIMIT = 1000
    # An authenticator code made for a request stays good if a 30 s step ends in between.
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.fixture(autouse=True)
def _no_pdf_layout(monkeypatch):
    """The memos render their HTML but skip the slow PDF layout: who gets a memo is this
    file's business, what is in the PDF is test_memo.py's."""

    def render_html_only(context: dict[str, Any]) -> bytes:
        return b"%PDF-stub\n" + render_to_string(MEMO_TEMPLATE, context).encode()

    monkeypatch.setattr(pdf, "render_memo_pdf", render_html_only)


# --- Outcomes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: int
    # For a 302 (its Location) or an htmx 204 (its HX-Redirect): where it must go (a URL, or
    # a function of the world giving one); None means anywhere but a login page.
    to: str | Callable[[World], str] | None = None
    label: str = ""
    says: str = ""  # text the page must contain
    exact: bool = False  # the redirect goes to `to` itself, not somewhere under it

    def __str__(self) -> str:
        return self.label or str(self.status)


OK = Outcome(200, label="200")
NOT_FOUND = Outcome(404, label="404", says=NOT_YOURS)
NOT_ALLOWED = Outcome(405, label="405")
LOGIN = Outcome(302, lambda w: f"{reverse('account_login')}?next=", "302-login")
ADMIN_LOGIN = Outcome(302, lambda w: f"{reverse('admin:login')}?next=", "302-admin-login")
TO_LOGIN = Outcome(302, lambda w: reverse("account_login"), "302-to-login", exact=True)
# The same two, asked by htmx: a 204 that sends the whole page to the sign-in form.
HX_LOGIN = Outcome(204, lambda w: f"{reverse('account_login')}?next=", "204-hx-login")
HX_TO_LOGIN = Outcome(204, lambda w: reverse("account_login"), "204-hx-to-login", exact=True)
EXACT_NEXT = (LOGIN, ADMIN_LOGIN, HX_LOGIN)  # ?next= is exactly the URL asked for
# allauth's own sign-in redirects (two-factor pages) percent-encode the whole ?next= URL.
LOGIN_ENCODED = Outcome(302, lambda w: f"{reverse('account_login')}?next=", "302-login-encoded")
HX_LOGIN_ENCODED = Outcome(
    204, lambda w: f"{reverse('account_login')}?next=", "204-hx-login-encoded"
)
# Changing how an account signs in first asks for the password again (allauth's
# reauthentication), also right after signing in; anonymous ones are sent to sign in.
REAUTHENTICATE = Outcome(
    302, lambda w: f"{reverse('account_reauthenticate')}?next=", "302-reauthenticate"
)
EXACT_NEXT_ENCODED = (LOGIN_ENCODED, HX_LOGIN_ENCODED, REAUTHENTICATE)
# A two-factor page for an authenticator the user has none of: a plain 404 (the owner has one,
# other_user not; still no id in the URL, so it is not an owner-only row).
NONE_OF_THEIR_OWN = Outcome(404, label="404-none-of-their-own", says=NOT_YOURS)


# After a reader's response without JavaScript: "see" the shared page again.
BACK_TO_THE_SHARED_PAGE = Outcome(
    303,
    lambda w: reverse("shared_report", args=[w.token]) + "#sign-off",
    "303-shared-report",
    exact=True,
)


def redirect(to: str | Callable[[World], str] | None = None) -> Outcome:
    """Another 302: exactly to a URL name without arguments, to a function of the world, or
    (None) anywhere but a login page."""
    if isinstance(to, str):
        name = to
        return Outcome(302, lambda w: reverse(name), f"302-{name}", exact=True)
    return Outcome(302, to, "302")


def as_htmx(post: Outcome) -> Outcome:
    """What an htmx POST gets where a plain POST gets `post`."""
    return {LOGIN: HX_LOGIN, TO_LOGIN: HX_TO_LOGIN, LOGIN_ENCODED: HX_LOGIN_ENCODED}.get(post, post)


Outcomes = dict[str, Outcome]  # method -> outcome
Expect = dict[str, Outcomes]  # role -> method -> outcome


def row(get: Outcome, post: Outcome, htmx: Outcome | None = None) -> Outcomes:
    return {"GET": get, "POST": post, "HTMX": htmx or as_htmx(post)}


def everyone(get: Outcome = OK, post: Outcome = NOT_ALLOWED) -> Expect:
    return {role: row(get, post) for role in ROLES}


def by_session(anonymous: tuple[Outcome, Outcome], logged_in: tuple[Outcome, Outcome]) -> Expect:
    """(GET, POST) without a session (anonymous, share holder) and with one (any user)."""
    return {role: row(*(anonymous if role in ANONYMOUS_ROLES else logged_in)) for role in ROLES}


def login_required(get: Outcome, post: Outcome, htmx: Outcome | None = None) -> Expect:
    """Any logged-in user, acting on their own account or their own new objects."""
    expect = by_session((LOGIN, LOGIN), (get, post))
    for role in ROLES:
        if role not in ANONYMOUS_ROLES:
            expect[role] = row(get, post, htmx)
    return expect


def reauthentication_required(anonymous: Outcome = LOGIN_ENCODED) -> Expect:
    """A two-factor change: anyone signed in is first asked for the password again, whatever
    the method; without a session, sign in."""
    expect = by_session((anonymous, anonymous), (REAUTHENTICATE, REAUTHENTICATE))
    for role in ROLES:
        if role not in ANONYMOUS_ROLES:
            expect[role] = row(REAUTHENTICATE, REAUTHENTICATE, REAUTHENTICATE)
    return expect


def own_authenticator(owner: Outcomes) -> Expect:
    """A page about an authenticator only the owner has: nobody else has one of their own."""
    expect = login_required(owner["GET"], owner["POST"], owner["HTMX"])
    for role in NOT_THE_OWNERS:
        expect[role] = {
            method: NOT_ALLOWED if outcome == NOT_ALLOWED else NONE_OF_THEIR_OWN
            for method, outcome in owner.items()
        }
    return expect


def hidden(outcome: Outcome) -> Outcome:
    """What someone without the role gets where a member with it gets `outcome`: a 404 for
    the methods the view accepts (a 405 for the others, refused before the lookup)."""
    return NOT_ALLOWED if outcome == NOT_ALLOWED else NOT_FOUND


class RoleExpect(dict):
    """An Expect made by members(): it also knows the role each method needs (`levels`) and
    the members who act on their own membership (`themselves`)."""

    levels: dict[str, str]
    themselves: frozenset[str]


def below(role: str, level: str) -> bool:
    """Whether `role` (any role of the table) has less than the project role `level`."""
    return role not in MEMBER_ROLES or ROLE_LEVELS[role] < ROLE_LEVELS[level]


def members(
    at_least: str,
    get: Outcome,
    post: Outcome,
    htmx: Outcome | None = None,
    *,
    post_at_least: str | None = None,
    themselves: dict[str, Outcomes] | None = None,
) -> RoleExpect:
    """A URL of world.project's objects: members with `at_least` that role (`post_at_least`
    for POSTs, if higher: a page any member reads, an action only the owner takes) get
    `get`/`post`/`htmx`; members below it and other_user get what `hidden` says; no session:
    the login page, always. `themselves`: what members acting on their own membership get
    instead (leaving a project)."""
    levels = {"GET": at_least, "POST": post_at_least or at_least}
    levels["HTMX"] = levels["POST"]
    expect = RoleExpect(login_required(get, post, htmx))
    for role in ("other_user", *MEMBER_ROLES):
        for method, outcome in list(expect[role].items()):
            if below(role, levels[method]):
                expect[role][method] = hidden(outcome)
    for role, outcomes in (themselves or {}).items():
        expect[role] = outcomes
    expect.levels = levels
    expect.themselves = frozenset(themselves or ())
    return expect


# --- Request bodies and URL arguments -------------------------------------------------------


def no_kwargs(w: World) -> dict[str, Any]:
    return {}


def no_data(w: World) -> dict[str, Any]:
    return {}


def project_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.project.pk}


def assessment_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.assessment.pk}


def viewers_membership_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.project.pk, "member_pk": w.viewer_membership.pk}


def milestone_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.milestone.pk}


def token_kwargs(w: World) -> dict[str, Any]:
    return {"token": w.token}


def example_kwargs(w: World) -> dict[str, Any]:
    return {"key": w.example.project.example_key}


def with_passwords(w: World) -> None:
    for user in (w.owner, w.other_user, w.editor, w.viewer):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


def owner_credentials(w: World) -> dict[str, Any]:
    with_passwords(w)
    return {"login": w.owner.username, "password": PASSWORD}


def password_again(w: World) -> dict[str, Any]:
    with_passwords(w)
    return {"password": PASSWORD}


def new_passwords(w: World) -> dict[str, Any]:
    return {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}


def password_change_data(w: World) -> dict[str, Any]:
    with_passwords(w)
    return {"oldpassword": PASSWORD} | new_passwords(w)


def signup_data(w: World) -> dict[str, Any]:
    return {"username": "newcomer", "email": "newcomer@example.com"} | new_passwords(w)


def owner_has_an_address(w: World) -> EmailAddress:
    """The owner's address, as signing up left it: primary, not verified yet."""
    w.owner.email = "alice@example.com"
    w.owner.save(update_fields=["email"])
    address, _ = EmailAddress.objects.get_or_create(
        user=w.owner, email=w.owner.email, defaults={"primary": True}
    )
    return address


def owners_reset_request(w: World) -> dict[str, Any]:
    owner_has_an_address(w)
    return {"email": "alice@example.com"}


def confirmation_key(w: World) -> dict[str, Any]:
    """The link of the owner's verification mail: whoever holds it can confirm the address."""
    return {"key": EmailConfirmationHMAC(owner_has_an_address(w)).key}


def reset_key(w: World) -> dict[str, Any]:
    """The link of a password reset mail made for the owner (before this request's sign-in)."""
    owner_has_an_address(w)
    return {
        "uidb36": user_pk_to_url_str(w.owner),
        "key": default_token_generator.make_token(w.owner),
    }


def reset_form_url(w: World) -> str:
    """Where a good reset link sends the browser: the key moves into the session."""
    kwargs = {"uidb36": user_pk_to_url_str(w.owner), "key": "set-password"}
    return reverse("account_reset_password_from_key", kwargs=kwargs)


def owner_has_two_factor(w: World) -> dict[str, Any]:
    """The owner (only) turned an authenticator app on, with recovery codes; the body is the
    app's code now."""
    with_passwords(w)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TOTP.activate(w.owner, secret)
    RecoveryCodes.activate(w.owner)
    return {"code": totp(secret, time.time())}


def a_code(w: World) -> dict[str, Any]:
    with_passwords(w)
    return {"code": "123456"}


def import_data(w: World) -> dict[str, Any]:
    export = json.dumps(export_project(w.project)).encode()
    return {"file": SimpleUploadedFile("export.json", export, content_type="application/json")}


def full_questionnaire(w: World) -> dict[str, Any]:
    data = {q: v if isinstance(v, list) else str(v) for q, v in w.answers.items()}
    return data | {"latency": "batch"}


# --- What a write must have done, what a page must show ---------------------------------------
# An effect is called with the world and the user who wrote; a page check with the world, the
# logged-in user who asked and the page.


def newest_project_is_named(name: Callable[[World], str]) -> Callable[[World, User], None]:
    def effect(w: World, user: User) -> None:
        assert Project.objects.owned_by(user).latest("id").name == name(w)

    return effect


def project_renamed(w: World, user: User) -> None:
    assert Project.objects.get(pk=w.project.pk).name == "Taken over"


def project_gone(w: World, user: User) -> None:
    assert not Project.objects.filter(pk=w.project.pk).exists()


def second_assessment_started(w: World, user: User) -> None:
    assert w.project.assessments.count() == 2


def reassessed_on_v2(w: World, user: User) -> None:
    """A new v2 assessment of the project, started from the (v1) world.assessment."""
    newest = w.project.assessments.first()
    assert newest.pk != w.assessment.pk
    assert (newest.rubric_version, newest.carried_from_id) == ("v2", w.assessment.pk)


def newest_questionnaire(w: World) -> str:
    return reverse("questionnaire", args=[w.project.assessments.first().pk])


def latency_saved(w: World, user: User) -> None:
    assert stored_answers(w.assessment)["latency"] == "batch"


def latency_note_saved(w: World, user: User) -> None:
    assert loaded(w.assessment).note_values["latency"]["text"] == "From the SLA"


def newest_milestone_page(w: World) -> str:
    return reverse("milestone_detail", args=[Milestone.objects.latest("id").pk])


def milestone_for_the_board_saved(w: World, user: User) -> None:
    milestone = Milestone.objects.latest("id")
    assert (milestone.assessment_id, milestone.name) == (w.assessment.pk, "For the board")
    assert (milestone.created_by, milestone.answers) == (user, w.answers)


def milestone_accepted(w: World, user: User) -> None:
    milestone = Milestone.objects.get(pk=w.milestone.pk)
    assert (milestone.accepted_by, milestone.accepted_at is not None) == (w.owner, True)


def dana_approved(w: World, user: User | None) -> None:
    sign_off = SignOff.objects.get()
    assert (sign_off.milestone_id, sign_off.share_link_id) == (w.milestone.pk, w.share.pk)
    assert (sign_off.name, sign_off.decision, sign_off.comment) == ("Dana", "approve", "Go.")


def link_for_the_cfo_made(w: World, user: User) -> None:
    assert w.assessment.share_links.filter(label="for the CFO", revoked_at=None).exists()


def link_revoked(w: World, user: User) -> None:
    assert ShareLink.objects.get(pk=w.share.pk).revoked_at is not None


def revocation_undone(w: World, user: User) -> None:
    assert ShareLink.objects.get(pk=w.revoked.pk).is_active()


def revoked_link_dismissed(w: World, user: User) -> None:
    link = ShareLink.objects.get(pk=w.revoked.pk)
    assert link.dismissed_at is not None and link.revoked_at is not None


def owner_signed_in(w: World, user: User | None) -> None:
    assert User.objects.get(pk=w.owner.pk).last_login is not None


def newcomer_signed_up(w: World, user: User | None) -> None:
    newcomer = User.objects.get(username="newcomer")
    assert EmailAddress.objects.get(user=newcomer).email == "newcomer@example.com"


def password_is_the_new_one(w: World, user: User) -> None:
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def address_added_unverified(w: World, user: User) -> None:
    added = EmailAddress.objects.get(email="added@example.com")
    assert (added.user_id, added.verified) == (user.pk, False)


def owners_app_used(w: World, user: User) -> None:
    app = Authenticator.objects.get(user=w.owner, type=Authenticator.Type.TOTP)
    assert app.last_used_at is not None


def owners_address_verified(w: World, user: User | None) -> None:
    assert EmailAddress.objects.get(user=w.owner).verified


def only_projects_reached_listed(w: World, user: User, page: str) -> None:
    """Exactly the projects the user owns or is a member of are listed (a shared one with the
    role and its owner); nobody else's ever is, not even by name."""
    for project in (w.project, w.draft.project, w.foreign_project, w.example.project):
        listed = reverse("project_detail", args=[project.pk]) in page
        member = project.memberships.filter(user=user).exists()
        assert listed == (project.owner == user or member), project.name
    if user not in (w.owner, w.editor, w.viewer):
        assert w.project.name not in page
    if user in (w.editor, w.viewer):
        assert f"shared by {w.owner.username}" in page
        assert ">Editor<" in page if user == w.editor else ">Viewer<" in page


def member_invited(w: World, user: User) -> None:
    membership = Membership.objects.get(project=w.project, user=w.other_user)
    assert (membership.role, membership.added_by_id) == ("viewer", user.pk)


def viewer_made_editor(w: World, user: User) -> None:
    assert Membership.objects.get(pk=w.viewer_membership.pk).role == "editor"


def viewer_gone(w: World, user: User) -> None:
    assert not Membership.objects.filter(project=w.project, user=w.viewer).exists()


def transferred_to_the_editor(w: World, user: User) -> None:
    project = Project.objects.get(pk=w.project.pk)
    assert project.owner_id == w.editor.pk
    roles = dict(project.memberships.values_list("user_id", "role"))
    assert roles == {w.owner.pk: "editor", w.viewer.pk: "viewer"}


# --- The table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str  # the URL's namespaced name; "admin" for everything under admin/
    expect: Expect
    kwargs: Callable[[World], dict[str, Any]] = no_kwargs
    data: Callable[[World], dict[str, Any]] = no_data
    path: str | None = None  # a fixed path instead of reverse(name): the admin pages
    # (role, method) pairs whose request must change the database (and so, in the others'
    # hands, proves the body would have worked) ...
    writes: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # ... and what each of them must have done.
    effect: Callable[[World, User], None] | None = None
    counts_views: bool = False  # a GET bumps the share link's view counter, nothing else
    # Checked on every 200 a logged-in user gets for a GET.
    page: Callable[[World, User, str], None] | None = None

    @property
    def id(self) -> str:
        return f"admin:{self.path}" if self.path else self.name

    @property
    def takes_token(self) -> bool:
        return self.kwargs is token_kwargs

    @property
    def levels(self) -> dict[str, str] | None:
        """The role each method needs, for a row made with members(); else None."""
        return getattr(self.expect, "levels", None)

    def url(self, w: World, **override: Any) -> str:
        return self.path or reverse(self.name, kwargs=self.kwargs(w) | override)


def owner_writes(*methods: str) -> frozenset[tuple[str, str]]:
    return frozenset(("owner", method) for method in methods)


def member_writes(at_least: str, *methods: str) -> frozenset[tuple[str, str]]:
    """Every member with `at_least` that role writes."""
    roles = [role for role in MEMBER_ROLES if not below(role, at_least)]
    return frozenset((role, method) for role in roles for method in methods)


def any_user_writes(*methods: str) -> frozenset[tuple[str, str]]:
    return frozenset((role, m) for role in ("other_user", *MEMBER_ROLES) for m in methods)


def anonymous_writes(*methods: str) -> frozenset[tuple[str, str]]:
    return frozenset((role, m) for role in ANONYMOUS_ROLES for m in methods)


def everyone_writes(*methods: str) -> frozenset[tuple[str, str]]:
    return frozenset((role, m) for role in ROLES for m in methods)


TABLE = [
    # Public pages: the same for everyone, GET only.
    Entry("home", everyone()),
    Entry("healthz", everyone()),
    Entry("example_report", everyone(), example_kwargs),
    Entry("example_memo", everyone(), example_kwargs),
    # The token is the key: whoever holds the URL gets the read-only report, session or not.
    Entry("shared_report", everyone(), token_kwargs, counts_views=True),
    Entry("shared_memo", everyone(), token_kwargs),
    # A reader's response to what the link shows: anyone holding the token, signed in or not.
    Entry(
        "shared_respond",
        {role: row(NOT_ALLOWED, BACK_TO_THE_SHARED_PAGE, OK) for role in ROLES},
        token_kwargs,
        lambda w: {"name": "Dana", "role": "CFO", "decision": "approve", "comment": "Go."},
        writes=everyone_writes("POST", "HTMX"),
        effect=dana_approved,
    ),
    # Accounts (django-allauth): signing in and up, for those without a session.
    Entry(
        "account_login",
        by_session(
            (OK, redirect("project_list")), (redirect("project_list"), redirect("project_list"))
        ),
        data=owner_credentials,
        writes=anonymous_writes("POST", "HTMX"),
        effect=owner_signed_in,
    ),
    Entry(
        "account_signup",
        by_session(
            (OK, redirect("project_create")),
            (redirect("project_list"), redirect("project_list")),
        ),
        data=signup_data,
        writes=anonymous_writes("POST", "HTMX"),
        effect=newcomer_signed_up,
    ),
    # Signing out: a GET only asks (a link can never sign anyone out), the POST does it.
    Entry(
        "account_logout",
        by_session((redirect("home"), redirect("home")), (OK, redirect("home"))),
    ),
    Entry("account_inactive", everyone(OK)),
    Entry("account_email_verification_sent", everyone(OK)),
    # Password reset by mail: anyone may ask; the mail goes to the address (the same page
    # whether or not an account has it).
    Entry(
        "account_reset_password",
        everyone(OK, redirect("account_reset_password_done")),
        data=owners_reset_request,
    ),
    Entry("account_reset_password_done", everyone(OK)),
    # The link of the mail is the key: whoever holds it gets the new-password form (the key
    # moves into the session, off the URL). The owner's own sign-in since the link was made
    # has already spent it (Django's reset tokens hash the last sign-in).
    Entry(
        "account_reset_password_from_key",
        {
            **everyone(redirect(reset_form_url), redirect(reset_form_url)),
            "owner": row(*[Outcome(200, label="200-bad-token", says="Bad Token")] * 2),
        },
        reset_key,
        new_passwords,
    ),
    Entry("account_reset_password_from_key_done", everyone(OK)),
    # The verification link is a key too: a GET shows what it confirms, the POST confirms it;
    # someone else signed in is signed out first (allauth), and sent to sign in.
    Entry(
        "account_confirm_email",
        by_session((OK, TO_LOGIN), (OK, TO_LOGIN)) | {"owner": row(OK, redirect("project_list"))},
        confirmation_key,
        writes=everyone_writes("POST", "HTMX"),
        effect=owners_address_verified,
    ),
    # Sign-in by mailed code is off: its confirmation page has nothing to confirm.
    Entry(
        "account_confirm_login_code",
        by_session((TO_LOGIN, TO_LOGIN), (redirect("project_list"), redirect("project_list"))),
        data=a_code,
    ),
    # The signed-in user's own account: addresses, password, confirming the password again.
    Entry(
        "account_email",
        login_required(OK, redirect("account_email")),
        data=lambda w: {"action_add": "", "email": "added@example.com"},
        writes=any_user_writes("POST", "HTMX"),
        effect=address_added_unverified,
    ),
    Entry(
        "account_change_password",
        login_required(OK, redirect("account_change_password")),
        data=password_change_data,
        writes=any_user_writes("POST", "HTMX"),
        effect=password_is_the_new_one,
    ),
    # For an account without a password (the world's users have none until a row gives them
    # one): set one. With a password this page sends to the change form.
    Entry(
        "account_set_password",
        login_required(OK, redirect("account_change_password")),
        data=new_passwords,
        writes=any_user_writes("POST", "HTMX"),
        effect=password_is_the_new_one,
    ),
    Entry(
        "account_reauthenticate",
        login_required(OK, redirect("project_list")),
        data=password_again,
    ),
    # Confirming by a mailed code needs a verified address; these users have none, so they
    # are sent to confirm with the password.
    Entry(
        "account_request_reauthentication_code",
        login_required(*[redirect("account_reauthenticate")] * 2),
        data=password_again,
    ),
    Entry(
        "account_confirm_reauthentication_code",
        login_required(*[redirect("account_request_reauthentication_code")] * 2),
        data=a_code,
    ),
    # Two-factor: the overview, and each change first asks for the password again.
    Entry("mfa_index", login_required(OK, NOT_ALLOWED)),
    Entry("mfa_activate_totp", reauthentication_required(), data=a_code),
    Entry("mfa_generate_recovery_codes", reauthentication_required(), data=a_code),
    Entry(
        "mfa_deactivate_totp",
        own_authenticator(row(REAUTHENTICATE, REAUTHENTICATE, REAUTHENTICATE)),
        data=owner_has_two_factor,
    ),
    Entry(
        "mfa_view_recovery_codes",
        own_authenticator(row(REAUTHENTICATE, NOT_ALLOWED)),
        data=owner_has_two_factor,
    ),
    Entry(
        "mfa_download_recovery_codes",
        own_authenticator(row(REAUTHENTICATE, REAUTHENTICATE, REAUTHENTICATE)),
        data=owner_has_two_factor,
    ),
    # Confirming with the authenticator app's code instead of the password: the owner has
    # one; the others have none, and are asked for the password.
    Entry(
        "mfa_reauthenticate",
        login_required(OK, redirect("project_list"))
        | {role: row(*[redirect("account_reauthenticate")] * 3) for role in NOT_THE_OWNERS},
        data=owner_has_two_factor,
        writes=owner_writes("POST", "HTMX"),
        effect=owners_app_used,
    ),
    # The code step of signing in: only between the password and the code, so it sends
    # everyone else on (to sign in, or to their projects).
    Entry(
        "mfa_authenticate",
        by_session((TO_LOGIN, TO_LOGIN), (redirect("project_list"), redirect("project_list"))),
        data=a_code,
    ),
    # The user's own sessions; the POST signs out all the others.
    Entry("usersessions_list", login_required(OK, redirect("usersessions_list"))),
    # A user's own project list, and new projects of their own.
    Entry("project_list", login_required(OK, NOT_ALLOWED), page=only_projects_reached_listed),
    Entry(
        "project_create",
        login_required(OK, redirect()),
        data=lambda w: {"name": "Another project", "description": ""},
        writes=any_user_writes("POST", "HTMX"),
        effect=newest_project_is_named(lambda w: "Another project"),
    ),
    Entry(
        "project_import",
        login_required(OK, redirect()),
        data=import_data,
        writes=any_user_writes("POST", "HTMX"),
        effect=newest_project_is_named(lambda w: w.project.name),
    ),
    # The project's objects: members reach them as their role allows; nobody else can tell
    # they exist.
    Entry("project_detail", members(VIEWER, OK, NOT_ALLOWED), project_kwargs),
    Entry(
        "project_edit",
        members(OWNER, OK, redirect(lambda w: reverse("project_detail", args=[w.project.pk]))),
        project_kwargs,
        lambda w: {"name": "Taken over", "description": "Changed by someone"},
        writes=owner_writes("POST", "HTMX"),
        effect=project_renamed,
    ),
    Entry(
        "project_delete",
        members(OWNER, OK, redirect("project_list")),
        project_kwargs,
        writes=owner_writes("POST", "HTMX"),
        effect=project_gone,
    ),
    Entry("project_export", members(VIEWER, OK, NOT_ALLOWED), project_kwargs),
    # The team: any member sees it; the owner invites (here other_user, as a viewer), changes
    # roles, removes and transfers; a member may leave (here the viewer, on their own).
    Entry(
        "project_members",
        members(
            VIEWER,
            OK,
            redirect(lambda w: reverse("project_members", args=[w.project.pk])),
            htmx=OK,
            post_at_least=OWNER,
        ),
        project_kwargs,
        lambda w: {"who": w.other_user.username.upper(), "role": "viewer"},
        writes=owner_writes("POST", "HTMX"),
        effect=member_invited,
    ),
    Entry(
        "member_update",
        members(
            OWNER,
            NOT_ALLOWED,
            redirect(lambda w: reverse("project_members", args=[w.project.pk])),
            htmx=OK,
        ),
        viewers_membership_kwargs,
        lambda w: {"role": "editor"},
        writes=owner_writes("POST", "HTMX"),
        effect=viewer_made_editor,
    ),
    Entry(
        "member_remove",
        members(
            OWNER,
            NOT_ALLOWED,
            redirect(lambda w: reverse("project_members", args=[w.project.pk])),
            htmx=OK,
            themselves={"viewer": row(NOT_ALLOWED, *[redirect("project_list")] * 2)},
        ),
        viewers_membership_kwargs,
        writes=owner_writes("POST", "HTMX") | {("viewer", "POST"), ("viewer", "HTMX")},
        effect=viewer_gone,
    ),
    Entry(
        "project_transfer",
        members(OWNER, OK, redirect(lambda w: reverse("project_detail", args=[w.project.pk]))),
        project_kwargs,
        lambda w: {"member": w.editor_membership.pk},
        writes=owner_writes("POST", "HTMX"),
        effect=transferred_to_the_editor,
    ),
    Entry(
        "assessment_create",
        members(EDITOR, NOT_ALLOWED, redirect()),
        project_kwargs,
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=second_assessment_started,
    ),
    Entry(
        "questionnaire",
        members(EDITOR, OK, redirect(lambda w: reverse("report", args=[w.assessment.pk]))),
        assessment_kwargs,
        full_questionnaire,
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=latency_saved,
    ),
    # Autosave: htmx gets the question's status and the verdict panel, in place.
    Entry(
        "save_question",
        members(
            EDITOR,
            NOT_ALLOWED,
            redirect(lambda w: reverse("questionnaire", args=[w.assessment.pk]) + "#q-latency"),
            htmx=OK,
        ),
        lambda w: {"pk": w.assessment.pk, "question_id": "latency"},
        lambda w: {"latency": "batch"},
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=latency_saved,
    ),
    # A note on an answer, autosaved like the answer.
    Entry(
        "save_note",
        members(
            EDITOR,
            NOT_ALLOWED,
            redirect(lambda w: reverse("questionnaire", args=[w.assessment.pk]) + "#q-latency"),
            htmx=OK,
        ),
        lambda w: {"pk": w.assessment.pk, "question_id": "latency"},
        lambda w: {"note": "From the SLA"},
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=latency_note_saved,
    ),
    # Re-assess a v1 assessment on v2: a new assessment (world.assessment is v1 and unchanged).
    Entry(
        "assessment_reassess",
        members(EDITOR, NOT_ALLOWED, redirect(newest_questionnaire)),
        assessment_kwargs,
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=reassessed_on_v2,
    ),
    Entry("report", members(VIEWER, OK, NOT_ALLOWED), assessment_kwargs),
    Entry("memo", members(VIEWER, OK, NOT_ALLOWED), assessment_kwargs),
    # Milestones: any member reads one, compares and downloads its decision record; editors
    # save them; only the owner marks one accepted.
    Entry(
        "milestone_create",
        members(EDITOR, NOT_ALLOWED, redirect(newest_milestone_page), htmx=OK),
        assessment_kwargs,
        lambda w: {"name": "For the board"},
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=milestone_for_the_board_saved,
    ),
    Entry("milestone_detail", members(VIEWER, OK, NOT_ALLOWED), milestone_kwargs),
    Entry("milestone_adr", members(VIEWER, OK, NOT_ALLOWED), milestone_kwargs),
    Entry("milestone_memo", members(VIEWER, OK, NOT_ALLOWED), milestone_kwargs),
    Entry(
        "milestone_accept",
        members(
            OWNER,
            NOT_ALLOWED,
            redirect(lambda w: reverse("milestone_detail", args=[w.milestone.pk])),
            htmx=OK,
        ),
        milestone_kwargs,
        lambda w: {"accepted": "1"},
        writes=owner_writes("POST", "HTMX"),
        effect=milestone_accepted,
    ),
    Entry("project_compare", members(VIEWER, OK, NOT_ALLOWED), project_kwargs),
    # Run the numbers: world.assessment is v1, which has no estimate, so a POST only goes
    # back to the page (tests/test_views_numbers.py edits a v2 assessment's assumptions).
    Entry(
        "assessment_numbers",
        members(
            EDITOR,
            OK,
            redirect(lambda w: reverse("assessment_numbers", args=[w.assessment.pk])),
        ),
        assessment_kwargs,
    ),
    Entry(
        "share_create",
        members(EDITOR, NOT_ALLOWED, OK),
        assessment_kwargs,
        lambda w: {"label": "for the CFO", "expiry": "30"},
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=link_for_the_cfo_made,
    ),
    # Revoking: a GET asks first (a confirmation page; htmx, a confirm step in the panel),
    # the POST revokes; by htmx it swaps the share panel in place.
    Entry(
        "share_revoke",
        members(
            EDITOR,
            OK,
            redirect(lambda w: reverse("report", args=[w.assessment.pk]) + "#share"),
            htmx=OK,
        ),
        lambda w: {"pk": w.assessment.pk, "share_pk": w.share.pk},
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=link_revoked,
    ),
    # Undo (within SHARE_UNDO_SECONDS) and dismiss act on the world's just-revoked link.
    Entry(
        "share_undo",
        members(
            EDITOR,
            NOT_ALLOWED,
            redirect(lambda w: reverse("report", args=[w.assessment.pk]) + "#share"),
            htmx=OK,
        ),
        lambda w: {"pk": w.assessment.pk, "share_pk": w.revoked.pk},
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=revocation_undone,
    ),
    Entry(
        "share_dismiss",
        members(
            EDITOR,
            NOT_ALLOWED,
            redirect(lambda w: reverse("report", args=[w.assessment.pk]) + "#share"),
            htmx=OK,
        ),
        lambda w: {"pk": w.assessment.pk, "share_pk": w.revoked.pk},
        writes=member_writes(EDITOR, "POST", "HTMX"),
        effect=revoked_link_dismissed,
    ),
    # The admin: no role here is staff, so only its login form opens (and refuses them).
    Entry("admin", everyone(ADMIN_LOGIN, ADMIN_LOGIN), path="/admin/"),
    Entry(
        "admin",
        everyone(ADMIN_LOGIN, ADMIN_LOGIN),
        data=lambda w: {
            "action": "delete_selected",
            "_selected_action": [w.project.pk],
            "post": "yes",
        },
        path="/admin/assessments/project/",
    ),
    # Its own login form is replaced by the one sign-in form (lockouts, two-factor).
    Entry(
        "admin_login",
        everyone(TO_LOGIN, TO_LOGIN),
        data=owner_credentials,
    ),
]

CASES = [
    pytest.param(entry, role, method, id=f"{entry.id}-{role}-{method}")
    for entry in TABLE
    for role in ROLES
    for method in METHODS
]
TOKEN_ENTRIES = [e for e in TABLE if e.takes_token]
EXAMPLE_ENTRIES = [e for e in TABLE if e.kwargs is example_kwargs]
THROUGH_A_ROLE = [e for e in TABLE if e.levels]
LEVELS_BY_NAME = {e.name: e.levels for e in THROUGH_A_ROLE}


# --- Everyone else without a role on the object of a member URL -----------------------------


def staff(w: World) -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def as_is(w: World) -> World:
    return w


def aimed_at_the_example(w: World) -> World:
    """The URLs' ids are the read-only worked example's (with a share link of its own)."""
    share, token = create_share_link(w.example, label="example link")
    return dataclasses.replace(
        w,
        project=w.example.project,
        assessment=w.example,
        share=share,
        token=token,
        milestone=share.milestone,
    )


def aimed_at_the_owners_other_project(w: World) -> World:
    """The URLs' ids are those of the owner's draft project (of which nobody is a member),
    with a share link of its own; the memberships are still world.project's."""
    share, token = create_share_link(w.draft, label="draft link")
    return dataclasses.replace(
        w,
        project=w.draft.project,
        assessment=w.draft,
        share=share,
        token=token,
        revoked=share,
        milestone=share.milestone,
    )


def aimed_at_missing_ids(w: World) -> World:
    return dataclasses.replace(
        w,
        project=Project(pk=MISSING_PK, name="Nowhere"),
        assessment=Assessment(pk=MISSING_PK),
        share=ShareLink(pk=MISSING_PK),
        milestone=Milestone(pk=MISSING_PK),
        editor_membership=Membership(pk=MISSING_PK),
        viewer_membership=Membership(pk=MISSING_PK),
    )


def owners_project_flagged_as_example(w: World) -> World:
    Project.objects.filter(pk=w.project.pk).update(is_example=True, example_key="flagged")
    return w


def members_removed(w: World) -> World:
    """Both members were just removed (between two of their requests)."""
    Membership.objects.filter(project=w.project).delete()
    return w


@dataclass(frozen=True)
class WithoutARole:
    id: str
    user: Callable[[World], User]
    aim: Callable[[World], World]  # the world whose ids the URLs carry


WITHOUT_A_ROLE = [
    WithoutARole("other_user-on-the-worked-example", lambda w: w.other_user, aimed_at_the_example),
    WithoutARole("staff-on-the-worked-example", staff, aimed_at_the_example),
    WithoutARole("staff-on-the-owners-project", staff, as_is),
    WithoutARole("editor-on-the-worked-example", lambda w: w.editor, aimed_at_the_example),
    WithoutARole(
        "editor-on-the-owners-other-project", lambda w: w.editor, aimed_at_the_owners_other_project
    ),
    WithoutARole(
        "viewer-on-the-owners-other-project", lambda w: w.viewer, aimed_at_the_owners_other_project
    ),
    WithoutARole(
        "owner-on-their-project-flagged-as-example",
        lambda w: w.owner,
        owners_project_flagged_as_example,
    ),
    WithoutARole(
        "editor-on-the-project-flagged-as-example",
        lambda w: w.editor,
        owners_project_flagged_as_example,
    ),
    WithoutARole("editor-just-removed", lambda w: w.editor, members_removed),
    WithoutARole("viewer-just-removed", lambda w: w.viewer, members_removed),
    WithoutARole("owner-on-missing-ids", lambda w: w.owner, aimed_at_missing_ids),
    WithoutARole("editor-on-missing-ids", lambda w: w.editor, aimed_at_missing_ids),
]


# --- The table against the URLconf ----------------------------------------------------------


def url_patterns() -> list[tuple[str, str]]:
    """(full route, namespaced name) of every pattern; everything under admin/ is one entry
    named "admin"; a pattern without a name is named after its route."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    found.append((route, "admin"))
                    continue
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, route, inner)
            elif pattern.name:
                found.append((route, f"{namespace}:{pattern.name}" if namespace else pattern.name))
            else:
                found.append((route, f"<unnamed {route}>"))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_url_pattern_has_a_table_entry():
    patterns = url_patterns()
    names = Counter(name for _, name in patterns)
    assert {name: n for name, n in names.items() if n > 1} == {}, "URL names must be unique"
    in_table = {entry.name for entry in TABLE}
    routes = {name: route for route, name in patterns}
    missing = {name: routes[name] for name in names.keys() - in_table}
    assert not missing, f"URL patterns without a row in TABLE, add one: {missing}"
    stale = in_table - names.keys()
    assert not stale, f"TABLE rows for URLs that no longer exist: {sorted(stale)}"


def test_every_entry_has_an_outcome_for_every_role_and_method():
    for entry in TABLE:
        assert set(entry.expect) == set(ROLES), entry.id
        for role in ROLES:
            assert set(entry.expect[role]) == set(METHODS), (entry.id, role)
        for role, method in entry.writes:  # a write succeeds (204: htmx sent on elsewhere)
            assert entry.expect[role][method].status in (200, 204, 302, 303), (
                entry.id,
                role,
                method,
            )
        assert (entry.effect is None) == (not entry.writes), entry.id


def test_every_url_that_takes_an_id_is_reached_through_a_role():
    with_ids = {name for route, name in url_patterns() if "<int:pk>" in route}
    assert {entry.name for entry in THROUGH_A_ROLE} == with_ids


def test_member_urls_send_anonymous_users_to_log_in_and_hide_from_everyone_below_the_role():
    for entry in THROUGH_A_ROLE:
        for role in ANONYMOUS_ROLES:
            assert entry.expect[role] == row(LOGIN, LOGIN), (entry.id, role)
        for method, outcome in entry.expect["owner"].items():
            level = entry.levels[method]
            for role in ("other_user", *MEMBER_ROLES):
                got = entry.expect[role][method]
                if role in entry.expect.themselves:
                    assert role in MEMBER_ROLES, (entry.id, role)
                elif below(role, level):
                    assert got == hidden(outcome), (entry.id, role, method)
                else:
                    assert got == outcome, (entry.id, role, method)


def test_the_admin_paths_are_the_admins():
    for entry in TABLE:
        if entry.path:
            assert resolve(entry.path).namespace == "admin", entry.path
    assert [route for route, name in url_patterns() if name == "admin"] == ["admin/"]


# --- Performing one request -----------------------------------------------------------------


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row a view could write, all columns (timestamps and counters included): the
    projects and the accounts (users, their addresses and authenticators). Sessions and the
    security records kept about requests (axes's, the quotas') are bookkeeping, not writes."""
    return {
        model.__name__: list(model.objects.order_by("id").values())
        for model in (
            *(Project, Membership, Assessment, Answer, AnswerNote, ShareLink),
            *(Milestone, SignOff, User, EmailAddress, Authenticator),
        )
    }


def without_view_counters(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    hidden = {"view_count", "last_viewed_at"}
    return rows | {
        "ShareLink": [
            {k: v for k, v in row.items() if k not in hidden} for row in rows["ShareLink"]
        ]
    }


def user_of(w: World, role: str) -> User | None:
    users = {"owner": w.owner, "editor": w.editor, "viewer": w.viewer}
    return (users | {"other_user": w.other_user}).get(role)


def act_as(client, w: World, role: str, entry: Entry) -> None:
    if user := user_of(w, role):
        client.force_login(user)
    elif role == "share_holder" and not entry.takes_token:
        # Has opened the shared report in this browser: that must not open anything else.
        assert client.get(reverse("shared_report", args=[w.token])).status_code == 200


def send(client, method: str, url: str, data: dict[str, Any]):
    if method == "GET":
        return client.get(url)
    if method == "HTMX":
        return client.post(url, data, headers={"HX-Request": "true"})
    return client.post(url, data)


def check_outcome(response, outcome: Outcome, w: World, url: str) -> None:
    assert response.status_code == outcome.status, f"expected {outcome}"
    if outcome.says:
        assert outcome.says in response.content.decode()
    if outcome.status not in (204, 302, 303):
        return
    location = response["HX-Redirect" if outcome.status == 204 else "Location"]
    if outcome.to is None:
        assert not location.startswith((reverse("account_login"), reverse("admin:login"))), location
        return
    target = outcome.to(w) if callable(outcome.to) else outcome.to
    assert location.startswith(target), location
    if outcome.exact:
        assert location == target
    if outcome in EXACT_NEXT:
        assert location == f"{target}{quote(url)}"
    if outcome in EXACT_NEXT_ENCODED:
        assert location == f"{target}{quote(url, safe='')}"


# A control: a link (or htmx GET) is followed with a GET, a form sent with its method.
CONTROL = re.compile(r"<(?P<tag>a|form)\b(?P<attrs>[^>]*)>", re.IGNORECASE)
ATTR = re.compile(r'(?P<name>[\w-]+)="(?P<value>[^"]*)"')


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def controls(page: str) -> list[tuple[str, str]]:
    """(method, path) of every link and form of the page that leads to a page of the site."""
    found = []
    for match in CONTROL.finditer(page):
        attrs = {
            m["name"].lower(): html.unescape(m["value"]) for m in ATTR.finditer(match["attrs"])
        }
        if match["tag"].lower() == "a":
            targets = [("GET", attrs.get("href")), ("GET", attrs.get("hx-get"))]
        else:
            method = "POST" if attrs.get("method", "get").lower() == "post" else "GET"
            targets = [(method, attrs.get("action")), ("POST", attrs.get("hx-post"))]
            targets.append(("GET", attrs.get("hx-get")))
        for method, url in targets:
            if url and url.startswith("/"):
                found.append((method, urlsplit(url).path))
    return found


def offers_only_what_the_role_may_use(w: World, role: str, page: str) -> None:
    """Every control on a member's page that leads to a member URL is one their role may use
    (or, leaving, one on their own membership): nothing on it would answer them with a 404."""
    for method, path in controls(page):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        levels = LEVELS_BY_NAME.get(match.url_name)
        if levels is None or not below(role, levels[method]):
            continue
        own = match.kwargs.get("member_pk") in {
            m.pk for m in Membership.objects.filter(user=user_of(w, role))
        }
        assert own and match.url_name == "member_remove", (
            f"a {role} is offered {method} {path}, which needs {levels[method]}"
        )


def leaks_nothing(response, w: World) -> None:
    """A page for someone else leaks the owner's project: not its description, and a 404 not
    even its name."""
    content = response.content.decode(errors="replace")
    assert SECRET not in content
    if response.status_code == 404 and w.project.name:
        assert w.project.name not in content


# --- The table, request by request --------------------------------------------------------


@pytest.mark.parametrize(("entry", "role", "method"), CASES)
def test_url_table(client, world, entry, role, method):
    outcome = entry.expect[role][method]
    url = entry.url(world)
    data = entry.data(world)
    act_as(client, world, role, entry)
    before = snapshot()

    response = send(client, method, url, data)

    check_outcome(response, outcome, world, url)
    if outcome == OK and url.endswith(".pdf"):
        assert response["Content-Type"] == "application/pdf"
    after = snapshot()
    user = user_of(world, role)
    if (role, method) in entry.writes:
        assert after != before, "the owner's request body must be one that works"
        entry.effect(world, user)
    elif entry.counts_views and method == "GET" and outcome == OK:
        assert without_view_counters(after) == without_view_counters(before)
        link_before = next(r for r in before["ShareLink"] if r["id"] == world.share.pk)
        link_after = next(r for r in after["ShareLink"] if r["id"] == world.share.pk)
        assert link_after["view_count"] == link_before["view_count"] + 1
        assert link_after["last_viewed_at"] is not None
    else:
        assert after == before
    if (role not in MEMBER_ROLES or response.status_code == 404) and not entry.takes_token:
        leaks_nothing(response, world)
    if entry.page and user and method == "GET" and outcome == OK:
        entry.page(world, user, response.content.decode())
    if role in MEMBER_ROLES and outcome.status == 200 and is_html(response):
        offers_only_what_the_role_may_use(world, role, response.content.decode())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("who", WITHOUT_A_ROLE, ids=[n.id for n in WITHOUT_A_ROLE])
@pytest.mark.parametrize("entry", THROUGH_A_ROLE, ids=[e.id for e in THROUGH_A_ROLE])
def test_member_urls_treat_everyone_without_the_role_as_another_user(
    client, world, entry, who, method
):
    target = who.aim(world)
    client.force_login(who.user(world))
    url = entry.url(target)
    data = entry.data(target)
    before = snapshot()

    response = send(client, method, url, data)

    check_outcome(response, entry.expect["other_user"][method], target, url)
    assert snapshot() == before
    leaks_nothing(response, target)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("entry", TOKEN_ENTRIES, ids=[e.id for e in TOKEN_ENTRIES])
def test_a_bogus_token_is_404_for_everyone_and_changes_nothing(client, world, entry, role, method):
    url = entry.url(world, token=BOGUS_TOKEN)
    act_as(client, world, role, entry)
    before = snapshot()

    response = send(client, method, url, {})

    accepted = entry.expect[role][method] != NOT_ALLOWED
    assert response.status_code == (404 if accepted else 405)
    assert snapshot() == before
    if accepted:
        for header, value in SHARED_HEADERS.items():
            assert response[header] == value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("entry", EXAMPLE_ENTRIES, ids=[e.id for e in EXAMPLE_ENTRIES])
def test_an_unknown_example_key_is_404_for_everyone(client, world, entry, role):
    act_as(client, world, role, entry)
    before = snapshot()

    response = client.get(entry.url(world, key="no-such-example"))

    assert response.status_code == 404
    assert snapshot() == before
