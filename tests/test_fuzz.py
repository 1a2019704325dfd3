"""Fuzzing every form and POST endpoint with generated bodies: wrong types, huge strings, unknown
fields, any unicode (NUL included), repeated keys, empty and malformed bodies.

Properties: never a 500; invalid input stores nothing (every table a view could write is
snapshotted before and after); valid input stores exactly what an independent oracle expects;
user text is never echoed unescaped. Each example runs in a transaction that is rolled back,
so examples do not see each other's writes.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, assume, event, given, reject
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from assessments.models import Answer, Assessment, Project, ShareLink
from assessments.rubric import load_rubric
from assessments.transfer import export_project
from assessments.validation import MAX_MONTHLY_QUERIES, plain_text, validate_answers
from tests.conftest import World
from tests.factories import stored_answers
from tests.test_upgrade import answers_per_spec

pytestmark = pytest.mark.django_db

RUBRIC = load_rubric("v1")
QUESTION_IDS = tuple(RUBRIC.questions)
CHOICE_IDS = tuple(sorted({c for q in RUBRIC.questions.values() for c in q.choice_ids}))
PASSWORD = "Correct-Horse-Battery-42"
NEW_PASSWORD = "Another-Strong-Pass-97"
OWNER_NAME = "alice"  # the world's owner (tests/conftest.py)
MARKER = "<x-fuzz>"  # must never come back unescaped
# Python refuses int() of more than this many digits (ValueError): numbers are fuzzed past it.
INT_MAX_STR_DIGITS = 4300


def fuzz(max_examples: int):
    return hypothesis_settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- Strategies --------------------------------------------------------------------------


def _repeat(text: str, size: int) -> str:
    return (text * (size // len(text) + 1))[:size]


# Up to ~100k characters without making hypothesis generate them one by one.
HUGE = st.builds(_repeat, st.text(min_size=1, max_size=8), st.integers(1_000, 100_000))
WHITESPACE = st.text(alphabet=" \t\r\n\x0b\x0c\x1c\x85\xa0\u2028\u3000\x00", max_size=8)
SCALAR = st.one_of(
    st.text(max_size=40),  # any code point but surrogates; NUL and controls included
    HUGE,
    WHITESPACE,
    st.integers(-(10**20), 10**20).map(str),
    st.floats().map(str),  # "nan", "inf", "1e+300"...
    st.sampled_from(["", "true", "false", "null", "None", "[]", "{}", "0", "-1", "1e9", MARKER]),
    st.sampled_from(CHOICE_IDS),
)
VALUES = st.lists(SCALAR, max_size=3)  # no value: the key is absent; several: a repeated key
# Field names the test client can put in a multipart header without changing its meaning.
KEY_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters='"\\\r\n\x00'),
    max_size=30,
)
ENCODINGS = st.sampled_from(["multipart", "urlencoded"])


def junk_fields(known: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, list[str]]]:
    """Unknown fields (never one of `known`)."""
    return st.dictionaries(KEY_TEXT.filter(lambda k: k not in known), VALUES, max_size=4)


def plausible_values(question) -> st.SearchStrategy[str]:
    """One submitted string that is a valid answer on its own (padded with whitespace)."""
    if question.kind == "integer":
        value = st.one_of(
            st.integers(0, MAX_MONTHLY_QUERIES).map(str),
            st.integers(0, MAX_MONTHLY_QUERIES).map("{:,}".format),
            st.integers(0, MAX_MONTHLY_QUERIES).map("{:_}".format),
        )
    else:
        value = st.sampled_from(question.choice_ids)
    return st.one_of(value, value.map(lambda v: f" \t{v}\n"))


def clean_values(question) -> st.SearchStrategy[list[str]]:
    """Submitted strings that make a valid answer."""
    plausible = plausible_values(question)
    if question.kind != "multi":
        return plausible.map(lambda v: [v])
    needs = st.sampled_from([c for c in question.choice_ids if c != "none"])
    return st.one_of(st.just(["none"]), st.lists(needs, min_size=1, max_size=4))


def answer_values(question) -> st.SearchStrategy[list[str]]:
    """Submitted strings for one question: often valid, often not."""
    near_misses = [plausible_values(question), SCALAR]
    if question.kind == "integer":
        near_misses += [
            st.integers(MAX_MONTHLY_QUERIES + 1, 10**15).map(str),
            st.builds(
                _repeat, st.sampled_from("0123456789"), st.integers(1, 2 * INT_MAX_STR_DIGITS)
            ),
            # Leading zeros: a small number written with more digits than int() accepts.
            st.builds(
                lambda zeros, number: "0" * zeros + str(number),
                st.integers(1, 2 * INT_MAX_STR_DIGITS),
                st.integers(0, MAX_MONTHLY_QUERIES),
            ),
        ]
    size = 4 if question.kind == "multi" else 2
    return st.one_of(clean_values(question), st.lists(st.one_of(*near_misses), max_size=size))


LOADED_AT = st.one_of(
    st.none(),
    SCALAR,
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive: ignored by the view
)


@st.composite
def questionnaire_forms(draw) -> dict[str, list[str]]:
    """Whole forms (every question, as the page sends them), valid or not, or a few fields."""
    mode = draw(st.sampled_from(["valid", "whole", "some"]))
    values = clean_values if mode == "valid" else answer_values
    data = {
        q.id: draw(values(q))
        for q in RUBRIC.questions.values()
        if mode != "some" or draw(st.booleans())
    }
    loaded_at = draw(LOADED_AT)
    if loaded_at is not None:
        data["loaded_at"] = [loaded_at]
    return data | draw(junk_fields((*QUESTION_IDS, "loaded_at")))


# --- Oracles (independent of the app's parsing code) ---------------------------------------


def _present(values: list[str]) -> list[str]:
    return [v.strip() for v in values if v.strip()]


_INVALID = object()


def expected_value(question, values: list[str]) -> Any:
    """The answer a question's submitted strings mean: a value, None (left empty) or _INVALID."""
    present = _present(values)
    if not present:
        return None
    if question.kind == "multi":
        if any(v not in question.choice_ids for v in present):
            return _INVALID
        if "none" in present and set(present) != {"none"}:
            return _INVALID
        return [c for c in question.choice_ids if c in present]
    if len(present) > 1:
        return _INVALID
    if question.kind == "integer":
        digits = present[0].replace(",", "").replace("_", "")
        if not re.fullmatch(r"[0-9]+", digits):
            return _INVALID
        significant = digits.lstrip("0") or "0"  # int() of any length would raise ValueError
        if len(significant) > len(str(MAX_MONTHLY_QUERIES)):
            return _INVALID
        return int(significant) if int(significant) <= MAX_MONTHLY_QUERIES else _INVALID
    return present[0] if present[0] in question.choice_ids else _INVALID


def _nothing_to_solve(answers: dict[str, Any]) -> bool:
    return answers.get("knowledge_needs") == ["none"] == answers.get("behavior_needs")


def expected_after_full_form(data: dict[str, list[str]], current: dict[str, Any]):
    """The stored answers after a whole-form POST, or None when it must be refused."""
    result = dict(current)
    for question in RUBRIC.questions.values():
        value = expected_value(question, data.get(question.id, []))
        if value is _INVALID:
            return None
        if value is not None:
            result[question.id] = value
        elif question.id in current:
            if question.required:
                return None
            del result[question.id]
    return None if _nothing_to_solve(result) else result


def expected_after_autosave(question, values: list[str], current: dict[str, Any]):
    """The stored answers after an autosave of one question, or None when it must be refused."""
    value = expected_value(question, values)
    if value is _INVALID or (value is None and question.required):
        return None
    result = dict(current)
    if value is None:
        result.pop(question.id, None)
    else:
        result[question.id] = value
    return None if _nothing_to_solve(result) else result


def char_field(values: list[str], max_length: int, *, required: bool) -> str | None:
    """What a Django CharField (strip=True) cleans the last submitted value to, or None."""
    value = (values[-1] if values else "").strip()
    if "\x00" in value or len(value) > max_length or (required and not value):
        return None
    return value


def reader_text(values: list[str], max_length: int, *, required: bool, multiline: bool = False):
    """What a text field readers see cleans to (a CharField, then validation.plain_text:
    no control or format characters), or None."""
    value = char_field(values, max_length, required=required)
    if value is None:
        return None
    value = plain_text(value, multiline=multiline)
    return None if required and not value else value


def last(values: list[str]) -> str | None:
    return values[-1] if values else None


# --- World and helpers -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_rate_limits_and_fast_hashing(settings, fast_password_hashing):
    settings.SHARE_BAD_TOKEN_LIMIT = 10**9
    settings.LOGIN_FAILURE_LIMIT = 10**9
    settings.LOGIN_IP_LIMIT = 10**9
    settings.LOGIN_USERNAME_LIMIT = 10**9
    settings.SIGNUP_LIMIT = 10**9


@contextmanager
def rolled_back():
    """One example: whatever it writes is undone, and rate-limit counters start empty."""
    cache.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class Clients:
    """One test client per kind, made before the examples: a new client re-reads every static
    file (whitenoise), and the owner's session must outlive each example's rollback. Cookies
    are reset for every example, so a login or logout in one does not leak into the next."""

    def __init__(self, owner: User):
        self._made = {}
        for logged_in in (False, True):
            for csrf in (False, True):
                client = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
                if logged_in:
                    client.force_login(owner)
                self._made[logged_in, csrf] = (client, copy.deepcopy(client.cookies))

    def get(self, *, owner: bool = False, csrf: bool = False) -> Client:
        client, cookies = self._made[owner, csrf]
        client.cookies = copy.deepcopy(cookies)
        return client


@pytest.fixture
def clients(world) -> Clients:
    """The clients, and a password for the owner (the sign-in forms are fuzzed too)."""
    world.owner.set_password(PASSWORD)
    world.owner.save(update_fields=["password"])
    return Clients(world.owner)


def snapshot():
    """Every row a view could write."""
    return (
        list(
            User.objects.order_by("id").values_list(
                "id", "username", "password", "last_login", "is_active", "is_staff"
            )
        ),
        list(
            Project.objects.order_by("id").values_list(
                "id", "owner_id", "name", "description", "is_example", "created_at", "updated_at"
            )
        ),
        list(
            Assessment.objects.order_by("id").values_list(
                "id",
                "project_id",
                "rubric_version",
                "created_at",
                "updated_at",
                "answers_changed_at",
            )  # fmt: skip
        ),
        list(
            Answer.objects.order_by("id").values_list(
                "id", "assessment_id", "question_id", "value", "updated_at"
            )
        ),
        list(
            ShareLink.objects.order_by("id").values_list(
                "id",
                "assessment_id",
                "label",
                "token_hash",
                "created_at",
                "expires_at",
                "revoked_at",
                "view_count",
                "last_viewed_at",
            )  # fmt: skip
        ),
    )


def post(client, url, data, encoding="multipart", *, htmx=False):
    """The POST's response. A body over MAX_REQUEST_BYTES must be refused with 413 before
    anything reads it; such an example then says nothing about the view, so it is rejected."""
    headers = {"HX-Request": "true"} if htmx else {}
    if encoding == "multipart":
        response = client.post(url, data, headers=headers)
    else:
        body = urlencode(data, doseq=True)
        response = client.post(
            url, body, content_type="application/x-www-form-urlencoded", headers=headers
        )
    length = int(response.wsgi_request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.MAX_REQUEST_BYTES:
        assert response.status_code == 413, response.status_code
        reject()
    return response


def no_500(response):
    """Never a server error, and never user text echoed unescaped into HTML."""
    exc_info = getattr(response, "exc_info", None)
    detail = f": {exc_info[1]!r}" if exc_info else ""
    assert response.status_code < 500, f"{response.status_code}{detail}"
    if currently_in_test_context():  # shown by --hypothesis-show-statistics
        event(f"status {response.status_code}")
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        assert MARKER.encode() not in response.content
    return response


def stored_answers_are_valid():
    for assessment in Assessment.objects.all():
        _, problems = validate_answers(
            stored_answers(assessment), load_rubric(assessment.rubric_version),
            require_complete=False,
        )  # fmt: skip
        assert problems == [], (assessment.pk, problems)


# --- Accounts ----------------------------------------------------------------------------


USERNAMES = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_.@+-]{2,20}", fullmatch=True), SCALAR, st.just(OWNER_NAME)
)
PASSWORDS = st.one_of(st.just(NEW_PASSWORD), st.just("short"), SCALAR)
EMAILS = st.one_of(
    st.from_regex(r"[a-z][a-z0-9.+-]{0,20}@[a-z]{1,10}\.example", fullmatch=True), SCALAR
)


@st.composite
def signup_forms(draw):
    password1 = draw(st.one_of(st.just([NEW_PASSWORD]), st.lists(PASSWORDS, max_size=2)))
    password2 = password1 if draw(st.booleans()) else draw(st.lists(PASSWORDS, max_size=2))
    data = {
        "username": draw(st.lists(USERNAMES, max_size=2)),
        "email": draw(st.lists(EMAILS, max_size=2)),
        "password1": password1,
        "password2": password2,
    }
    return data | draw(junk_fields(tuple(data)))


@fuzz(100)
@given(data=signup_forms(), encoding=ENCODINGS)
def test_signup(world, clients, data, encoding):
    with rolled_back():
        client = clients.get()
        before = snapshot()
        response = no_500(post(client, reverse("account_signup"), data, encoding))
        if response.status_code == 302:
            # Stored as Django always stored usernames (NFKC), and lower-cased (allauth).
            username = unicodedata.normalize("NFKC", last(data["username"]).strip()).lower()
            user = User.objects.get(username=username)
            assert user.email == last(data["email"]).strip().lower()
            assert last(data["password1"]) == last(data["password2"])
            assert user.check_password(last(data["password1"]))
            assert User.objects.count() == len(before[0]) + 1
        else:
            assert response.status_code in (200, 400)
            assert snapshot() == before


def _is_owner_name(values: list[str]) -> bool:
    value = last(values)
    # allauth strips the login and compares usernames case-insensitively; ours adds NFKC.
    if value is None:
        return False
    return unicodedata.normalize("NFKC", value.strip()).strip().lower() == OWNER_NAME


NEXT_URLS = st.one_of(
    SCALAR,
    st.sampled_from(
        [
            "/projects/",
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "http:evil.example",
            " //evil.example",
            "\x00//evil.example",
            "/ok\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
            "/projects/" + MARKER,
        ]
    ),
)


@pytest.mark.filterwarnings("ignore::django.core.cache.backends.base.CacheKeyWarning")
@fuzz(100)
@given(
    username=st.one_of(
        st.sampled_from([["alice"], [" alice\t"], ["ALICE"], ["ａｌｉｃｅ"], ["x", "alice"]]),
        st.lists(SCALAR, max_size=2),
    ),
    password=st.one_of(
        st.just([PASSWORD]),
        st.sampled_from([[PASSWORD + " "], [PASSWORD, "x"], ["x", PASSWORD]]),
        st.lists(SCALAR, max_size=2),
    ),
    next_url=st.lists(NEXT_URLS, max_size=2),
    extra=junk_fields(("login", "password", "next")),
    encoding=ENCODINGS,
)
def test_login(world, clients, username, password, next_url, extra, encoding):
    data = {"login": username, "password": password, "next": next_url} | extra
    with rolled_back():
        client = clients.get()
        before = snapshot()
        response = no_500(post(client, reverse("account_login"), data, encoding))
        correct = _is_owner_name(username) and last(password) == PASSWORD
        assert (response.status_code == 302) == correct
        if correct:
            location = response["Location"]
            assert urlsplit(location).netloc in ("", "testserver"), location
            assert urlsplit(location).scheme in ("", "http", "https"), location
            assert not location.startswith(("//", "/\\", "\\")), location
        else:
            assert response.status_code == 200
            assert snapshot() == before


@fuzz(60)
@given(next_url=NEXT_URLS, extra=junk_fields(("next",)))
def test_login_page_with_any_query_string(clients, next_url, extra):
    query = urlencode({"next": next_url} | extra, doseq=True)
    response = no_500(clients.get().get(f"{reverse('account_login')}?{query}"))
    assert response.status_code == 200


@st.composite
def password_change_forms(draw):
    new1 = draw(st.one_of(st.just([NEW_PASSWORD]), st.lists(PASSWORDS, max_size=2)))
    data = {
        "oldpassword": draw(st.one_of(st.just([PASSWORD]), st.lists(SCALAR, max_size=2))),
        "password1": new1,
        "password2": new1 if draw(st.booleans()) else draw(st.lists(PASSWORDS, max_size=2)),
    }
    return data | draw(junk_fields(tuple(data)))


@fuzz(80)
@given(data=password_change_forms(), encoding=ENCODINGS)
def test_password_change(world, clients, data, encoding):
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        response = no_500(post(client, reverse("account_change_password"), data, encoding))
        owner = User.objects.get(pk=world.owner.pk)
        if response.status_code == 302:
            assert last(data["oldpassword"]) == PASSWORD
            assert last(data["password1"]) == last(data["password2"])
            assert owner.check_password(last(data["password1"]))
        else:
            assert response.status_code == 200
            assert snapshot() == before
            assert owner.check_password(PASSWORD)


# --- Projects ----------------------------------------------------------------------------


NAMES = st.one_of(
    st.text(min_size=1, max_size=130),
    st.sampled_from(["Support bot", "  padded  ", "x" * 120, "x" * 121, MARKER, "a\x00b"]),
    SCALAR,
)


@st.composite
def project_forms(draw):
    data = {
        "name": draw(st.lists(NAMES, max_size=2)),
        "description": draw(st.lists(st.one_of(NAMES, st.just("d" * 4001)), max_size=2)),
    }
    return data | draw(junk_fields(("name", "description")))


@fuzz(100)
@given(data=project_forms(), encoding=ENCODINGS)
def test_project_create(world, clients, data, encoding):
    name = reader_text(data["name"], 120, required=True)
    description = reader_text(data["description"], 4000, required=False, multiline=True)
    valid = name is not None and description is not None
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        response = no_500(post(client, reverse("project_create"), data, encoding))
        assert response.status_code == (302 if valid else 200)
        if valid:
            project = Project.objects.exclude(pk__in=[p[0] for p in before[1]]).get()
            assert (project.owner, project.name, project.description) == (
                world.owner,
                name,
                description,
            )
            assert project.assessments.count() == 1
        else:
            assert snapshot() == before


@fuzz(100)
@given(data=project_forms(), encoding=ENCODINGS)
def test_project_edit(world, clients, data, encoding):
    name = reader_text(data["name"], 120, required=True)
    description = reader_text(data["description"], 4000, required=False, multiline=True)
    valid = name is not None and description is not None
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        url = reverse("project_edit", args=[world.project.pk])
        response = no_500(post(client, url, data, encoding))
        assert response.status_code == (302 if valid else 200)
        if valid:
            project = Project.objects.get(pk=world.project.pk)
            assert (project.name, project.description) == (name, description)
            assert Project.objects.count() == len(before[1])
        else:
            assert snapshot() == before


ANY_FORM = st.dictionaries(KEY_TEXT, VALUES, max_size=6)


@fuzz(40)
@given(data=ANY_FORM, encoding=ENCODINGS, htmx=st.booleans())
def test_project_delete_ignores_the_body(world, clients, data, encoding, htmx):
    with rolled_back():
        client = clients.get(owner=True)
        url = reverse("project_delete", args=[world.project.pk])
        response = no_500(post(client, url, data, encoding, htmx=htmx))
        assert response.status_code == 302
        assert not Project.objects.filter(pk=world.project.pk).exists()
        assert not Answer.objects.filter(assessment__project=world.project.pk).exists()
        assert Project.objects.filter(pk=world.foreign_project.pk).exists()


@fuzz(40)
@given(data=ANY_FORM, encoding=ENCODINGS)
def test_assessment_create_ignores_the_body(world, clients, data, encoding):
    with rolled_back():
        client = clients.get(owner=True)
        url = reverse("assessment_create", args=[world.project.pk])
        response = no_500(post(client, url, data, encoding))
        assert response.status_code == 302
        newest = Project.objects.with_assessments().get(pk=world.project.pk).current_assessment
        assert newest.pk != world.assessment.pk
        # world.assessment is v1: the new v2 one starts from its answers as the spec says.
        assert (newest.rubric_version, newest.carried_from_id) == ("v2", world.assessment.pk)
        assert stored_answers(newest) == answers_per_spec(stored_answers(world.assessment))
        assert stored_answers(world.assessment) == world.answers


# --- Import (a JSON file upload) ---------------------------------------------------------


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(CHOICE_IDS),
)
JSON_ANY = st.recursive(
    JSON_LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)
TIMESTAMPS = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ).map(datetime.isoformat),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
        datetime.isoformat
    ),
    st.text(max_size=30),
    JSON_LEAF,
)


def _no_nul(value: Any) -> bool:
    return not (isinstance(value, str) and "\x00" in value)


EXPORT_CHANGES = (
    "name",
    "description",
    "created_at",
    "rubric_version",
    "assessment_times",
    "answers",
    "extra_assessment",
    "top_level",
)


@st.composite
def exports(draw, base: dict) -> dict:
    """A real export with a few parts replaced by generated values."""
    data = json.loads(json.dumps(base))
    project = data["project"]
    item = draw(st.sampled_from(data["assessments"]))
    for change in draw(st.sets(st.sampled_from(EXPORT_CHANGES), max_size=3)):
        if change in ("name", "description"):
            project[change] = draw(st.one_of(NAMES, JSON_ANY).filter(_no_nul))
        elif change == "created_at":
            project["created_at"] = draw(TIMESTAMPS)
        elif change == "rubric_version":
            item["rubric_version"] = draw(st.one_of(st.just("v1"), JSON_ANY))
        elif change == "assessment_times":
            item[draw(st.sampled_from(["created_at", "answers_changed_at"]))] = draw(TIMESTAMPS)
        elif change == "answers":
            changes = st.dictionaries(
                st.sampled_from(QUESTION_IDS), st.one_of(JSON_ANY, JSON_LEAF), max_size=4
            )
            item["answers"] = draw(
                st.one_of(JSON_ANY, changes.map(lambda c, a=item["answers"]: a | c))
            )
        elif change == "extra_assessment":
            # An earlier "top_level" change may already have replaced the list.
            if isinstance(data.get("assessments"), list):
                data["assessments"].append(draw(JSON_ANY))
        else:
            key = draw(st.sampled_from(["format", "version", "project", "assessments", "extra"]))
            data[key] = draw(JSON_ANY)
    return data


@fuzz(120)
@given(data=st.data(), kind=st.sampled_from(["export", "json", "bytes", "not a file"]))
def test_project_import(world, clients, data, kind):
    base = export_project(world.project)
    if kind == "export":
        content = json.dumps(data.draw(exports(base))).encode()
    elif kind == "json":
        content = json.dumps(data.draw(JSON_ANY)).encode()
    else:
        content = data.draw(st.one_of(st.binary(max_size=300), HUGE.map(str.encode)))
    extra = data.draw(junk_fields(("file",)))
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        if kind == "not a file":
            form = {"file": [content.decode("utf-8", "replace")]}
        else:
            form = {"file": SimpleUploadedFile("export.json", content, "application/json")}
        response = no_500(client.post(reverse("project_import"), form | extra))
        if response.status_code == 302:
            project = Project.objects.exclude(pk__in=[p[0] for p in before[1]]).get()
            assert project.owner == world.owner
            assert 0 < len(project.name) <= 120 and project.name.strip()
            assert "\x00" not in project.name + project.description
            assert project.assessments.count() == len(json.loads(content)["assessments"])
            stored_answers_are_valid()
        else:
            assert response.status_code == 422
            assert snapshot() == before


# --- The questionnaire -------------------------------------------------------------------


@fuzz(150)
@given(data=questionnaire_forms(), which=st.sampled_from(["assessment", "draft"]), enc=ENCODINGS)
def test_full_questionnaire_post(world, clients, data, which, enc):
    assessment = getattr(world, which)
    with rolled_back():
        current = stored_answers(assessment)
        expected = expected_after_full_form(data, current)
        client = clients.get(owner=True)
        before = snapshot()
        response = no_500(post(client, reverse("questionnaire", args=[assessment.pk]), data, enc))
        if expected is None:
            assert response.status_code == 422
            assert snapshot() == before
        elif response.status_code == 409:  # a loaded_at before the answers were saved
            assert snapshot() == before
        else:
            assert response.status_code == 302
            assert stored_answers(assessment) == expected
        stored_answers_are_valid()


@st.composite
def autosaves(draw):
    question = RUBRIC.questions[draw(st.sampled_from(QUESTION_IDS))]
    data = {question.id: draw(answer_values(question))}
    # Other questions' fields must be ignored: only the URL's question is saved.
    for other in draw(st.lists(st.sampled_from(QUESTION_IDS), max_size=3)):
        if other != question.id:
            data[other] = draw(answer_values(RUBRIC.questions[other]))
    return question, data | draw(junk_fields(QUESTION_IDS))


@fuzz(200)
@given(
    save=autosaves(),
    which=st.sampled_from(["assessment", "draft"]),
    htmx=st.booleans(),
    enc=ENCODINGS,
)
def test_autosave_one_question(world, clients, save, which, htmx, enc):
    question, data = save
    assessment = getattr(world, which)
    with rolled_back():
        current = stored_answers(assessment)
        expected = expected_after_autosave(question, data[question.id], current)
        client = clients.get(owner=True)
        before = snapshot()
        url = reverse("save_question", args=[assessment.pk, question.id])
        response = no_500(post(client, url, data, enc, htmx=htmx))
        if htmx:
            assert response.status_code == (422 if expected is None else 200)
        else:
            assert response.status_code == 302
            assert response["Location"] == (
                reverse("questionnaire", args=[assessment.pk]) + f"#q-{question.id}"
            )
        if expected is None:
            assert snapshot() == before
        else:
            assert stored_answers(assessment) == expected
        stored_answers_are_valid()


# --- Share links -------------------------------------------------------------------------


LABELS = st.one_of(
    st.text(max_size=90),
    st.sampled_from(["for the CFO", "x" * 80, "x" * 81, "  padded  ", MARKER, "a\x00b"]),
    SCALAR,
)
EXPIRIES = st.one_of(st.sampled_from(["never", "7", "30", "90", " 7", "7 ", "1", ""]), SCALAR)
EXPIRY_DAYS = {"never": None, "7": 7, "30": 30, "90": 90}


@fuzz(100)
@given(
    label=st.one_of(st.text(max_size=80).map(lambda t: [t]), st.lists(LABELS, max_size=2)),
    expiry=st.one_of(
        st.sampled_from([["never"], ["7"], ["30"], ["90"]]), st.lists(EXPIRIES, max_size=2)
    ),
    extra=junk_fields(("label", "expiry")),
    htmx=st.booleans(),
    enc=ENCODINGS,
)
def test_share_create(world, clients, label, expiry, extra, htmx, enc):
    clean_label = reader_text(label, 80, required=False)
    valid = clean_label is not None and last(expiry) in EXPIRY_DAYS
    data = {"label": label, "expiry": expiry} | extra
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        url = reverse("share_create", args=[world.assessment.pk])
        started = datetime.now(UTC)
        response = no_500(post(client, url, data, enc, htmx=htmx))
        assert response.status_code == (200 if valid else 422)
        if valid:
            link = ShareLink.objects.exclude(pk__in=[s[0] for s in before[4]]).get()
            assert (link.assessment_id, link.label) == (world.assessment.pk, clean_label)
            days = EXPIRY_DAYS[last(expiry)]
            if days is None:
                assert link.expires_at is None
            else:
                assert started + timedelta(days=days) <= link.expires_at
                assert link.expires_at <= datetime.now(UTC) + timedelta(days=days)
        else:
            assert snapshot() == before


@fuzz(60)
@given(
    data=ANY_FORM,
    target=st.sampled_from(["share", "revoked", "foreign_share"]),
    htmx=st.booleans(),
    enc=ENCODINGS,
)
def test_share_revoke(world, clients, data, target, htmx, enc):
    link = getattr(world, target)
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        url = reverse("share_revoke", args=[world.assessment.pk, link.pk])
        response = no_500(post(client, url, data, enc, htmx=htmx))
        if target == "foreign_share":
            assert response.status_code == 404
            assert snapshot() == before
            return
        assert response.status_code == (200 if htmx else 302)
        assert ShareLink.objects.get(pk=link.pk).revoked_at is not None
        if target == "revoked":  # revoking again changes nothing
            assert snapshot() == before


# --- The shared report, by token ---------------------------------------------------------


def _token_variants(world: World) -> list[str]:
    token = world.token
    return [
        token[:-1],
        token + "x",
        token.upper(),
        token.swapcase(),
        f" {token}",
        token + "\x00",
        world.revoked_token,
        "x" * 201,
    ]


TOKEN_TEXT = st.one_of(
    st.text(min_size=1, max_size=300),
    HUGE,
    st.from_regex(r"[A-Za-z0-9_-]{43}", fullmatch=True),  # the shape of a real token
)
QUERY = st.dictionaries(KEY_TEXT, VALUES, max_size=3)


@fuzz(150)
@given(
    data=st.data(),
    memo=st.booleans(),
    query=QUERY,
    method=st.sampled_from(["get", "get", "get", "head", "post"]),
)
def test_shared_report_and_memo_with_any_token(world, clients, data, memo, query, method):
    token_path = data.draw(
        st.one_of(
            TOKEN_TEXT.map(lambda t: quote(t, safe="")),
            st.binary(min_size=1, max_size=100).map(lambda b: quote(b, safe="")),
            st.sampled_from(_token_variants(world)).map(lambda t: quote(t, safe="")),
        )
    )
    path = f"/s/{token_path}/" + ("memo.pdf" if memo else "")
    if query:
        path += "?" + urlencode(query, doseq=True)
    with rolled_back():
        before = snapshot()
        response = no_500(getattr(clients.get(), method)(path))
        try:
            view = resolve(response.wsgi_request.path_info).url_name
        except Resolver404:
            view = None
        shared = view in ("shared_report", "shared_memo")
        # The shared views take GET and HEAD; an unknown path is a 404 whatever the method.
        assert response.status_code == (404 if method != "post" or not shared else 405)
        assert snapshot() == before
        if shared and method != "post":
            assert response["Referrer-Policy"] == "same-origin"
            assert response["Cache-Control"] == "no-store"


def test_the_real_token_still_works_after_the_fuzzing_setup(world, clients):
    response = no_500(clients.get().get(reverse("shared_report", args=[world.token])))
    assert response.status_code == 200


# --- Ids in URLs: any number, any question id --------------------------------------------


ID_ROUTES = [
    ("project_detail", "GET"),
    ("project_edit", "POST"),
    ("project_delete", "POST"),
    ("assessment_create", "POST"),
    ("assessment_reassess", "POST"),
    ("questionnaire", "POST"),
    ("report", "GET"),
    ("memo", "GET"),
    ("share_create", "POST"),
    ("project_export", "GET"),
]
BIG_IDS = st.one_of(
    st.integers(0, 10**6),
    st.integers(2**31 - 2, 2**31 + 2),
    st.integers(2**63 - 2, 2**64 + 2),
    st.integers(10**20, 10**40),
)


@fuzz(100)
@given(route=st.sampled_from(ID_ROUTES), pk=BIG_IDS, data=ANY_FORM)
def test_any_id_in_the_url_is_a_404_unless_yours(world, clients, route, pk, data):
    name, method = route
    owned = {world.project.pk, world.draft.project_id, world.assessment.pk, world.draft.pk}
    assume(pk not in owned)
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        url = reverse(name, args=[pk])
        response = no_500(client.post(url, data) if method == "POST" else client.get(url))
        assert response.status_code == 404
        assert snapshot() == before


QUESTION_PATHS = st.one_of(
    st.from_regex(r"[-a-zA-Z0-9_]{1,80}", fullmatch=True),  # what the URL pattern accepts
    st.text(min_size=1, max_size=60).map(lambda t: quote(t, safe="")),
    st.sampled_from([q.upper() for q in QUESTION_IDS] + [q + "-" for q in QUESTION_IDS]),
)


@fuzz(100)
@given(
    question_path=QUESTION_PATHS,
    pk=st.one_of(st.just(None), BIG_IDS),
    share_pk=BIG_IDS,
    data=ANY_FORM,
    htmx=st.booleans(),
)
def test_any_question_or_share_id_in_the_url(
    world, clients, question_path, pk, share_pk, data, htmx
):
    assume(question_path not in QUESTION_IDS)
    assume(share_pk not in {world.share.pk, world.revoked.pk})
    assessment_pk = world.assessment.pk if pk is None else pk
    headers = {"HX-Request": "true"} if htmx else {}
    with rolled_back():
        client = clients.get(owner=True)
        before = snapshot()
        for url in (
            f"/assessments/{assessment_pk}/questions/{question_path}/",
            f"/assessments/{assessment_pk}/shares/{share_pk}/revoke/",
        ):
            response = no_500(client.post(url, data, headers=headers))
            assert response.status_code == 404, url
        assert snapshot() == before


# --- Pages with any query string ---------------------------------------------------------


GET_PAGES = [
    ("home", None, False),
    ("account_signup", None, False),
    ("account_login", None, False),
    ("account_reset_password", None, False),
    ("project_list", None, True),
    ("project_create", None, True),
    ("project_import", None, True),
    ("project_detail", "project", True),
    ("project_edit", "project", True),
    ("project_delete", "project", True),
    ("questionnaire", "assessment", True),
    ("questionnaire", "draft", True),
    ("report", "assessment", True),
    ("account_change_password", None, True),
    ("account_email", None, True),
    ("mfa_index", None, True),
    ("usersessions_list", None, True),
]


@fuzz(80)
@given(page=st.sampled_from(GET_PAGES), query=QUERY)
def test_pages_with_any_query_string(world, clients, page, query):
    name, target, logged_in = page
    args = [getattr(world, target).pk] if target else []
    with rolled_back():
        client = clients.get(owner=logged_in)
        before = snapshot()
        url = reverse(name, args=args) + "?" + urlencode(query, doseq=True)
        response = no_500(client.get(url))
        assert response.status_code == 200
        assert snapshot() == before


# --- Any body at all, to every POST endpoint ---------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    args: tuple[str, ...] = ()  # World attributes whose pk goes in the URL
    logged_in: bool = True
    writes_on: frozenset[int] = frozenset()  # statuses after which a write is allowed
    reads_body: bool = True  # False: the view never looks at the body


ENDPOINTS = [
    Endpoint("account_signup", logged_in=False, writes_on=frozenset({302})),
    Endpoint("account_login", logged_in=False, writes_on=frozenset({302})),
    Endpoint("account_logout"),
    Endpoint("account_change_password", writes_on=frozenset({302})),
    Endpoint("account_reset_password", logged_in=False),
    Endpoint("account_email", writes_on=frozenset({302})),
    Endpoint("usersessions_list"),
    Endpoint("project_create", writes_on=frozenset({302})),
    Endpoint("project_import", writes_on=frozenset({302})),
    Endpoint("project_edit", ("project",), writes_on=frozenset({302})),
    Endpoint("project_delete", ("project",), writes_on=frozenset({302}), reads_body=False),
    Endpoint("assessment_create", ("project",), writes_on=frozenset({302}), reads_body=False),
    Endpoint("assessment_reassess", ("assessment",), writes_on=frozenset({302}), reads_body=False),
    Endpoint("questionnaire", ("assessment",), writes_on=frozenset({302})),
    Endpoint("save_question", ("assessment", "latency"), writes_on=frozenset({200, 302})),
    Endpoint("share_create", ("assessment",), writes_on=frozenset({200})),
    Endpoint(
        "share_revoke", ("assessment", "share"), writes_on=frozenset({200, 302}), reads_body=False
    ),
    Endpoint("shared_report", ("token",), logged_in=False, reads_body=False),
    Endpoint("shared_memo", ("token",), logged_in=False, reads_body=False),
]


def endpoint_url(endpoint: Endpoint, world: World) -> str:
    args = [
        getattr(world, a).pk if hasattr(getattr(world, a, None), "pk") else getattr(world, a, a)
        for a in endpoint.args
    ]
    return reverse(endpoint.name, args=args)


CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "multipart/form-data; boundary=BoUnDaRy",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=" + "b" * 500,
    "application/json",
    "text/plain; charset=utf-8",
    "",
    "*/*",
]


@st.composite
def multipart_ish(draw) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.one_of(st.sampled_from(["name", "label", "latency", "file"]), st.binary()))
        headers = b'Content-Disposition: form-data; name="' + (
            name.encode() if isinstance(name, str) else name
        )
        headers += draw(st.sampled_from([b'"', b'"; filename="x.json"', b"", b'"; filename*=']))
        parts.append(b"--BoUnDaRy\r\n" + headers + b"\r\n\r\n" + draw(st.binary(max_size=200)))
    tail = draw(st.sampled_from([b"\r\n--BoUnDaRy--\r\n", b"", b"\r\n--BoUnDaRy"]))
    return b"\r\n".join(parts) + tail


RAW_BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=2000),
    st.text(max_size=300).map(str.encode),
    HUGE.map(str.encode),
    multipart_ish(),
    st.dictionaries(KEY_TEXT, VALUES, max_size=5).map(lambda d: urlencode(d, doseq=True).encode()),
)


@fuzz(300)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    body=RAW_BODIES,
    content_type=st.sampled_from(CONTENT_TYPES),
    htmx=st.booleans(),
)
def test_any_raw_body_to_any_post_endpoint(world, clients, endpoint, body, content_type, htmx):
    with rolled_back():
        client = clients.get(owner=endpoint.logged_in)
        before = snapshot()
        response = no_500(
            client.generic(
                "POST",
                endpoint_url(endpoint, world),
                body,
                content_type=content_type,
                headers={"HX-Request": "true"} if htmx else {},
            )
        )
        if response.status_code not in endpoint.writes_on:
            assert snapshot() == before
        stored_answers_are_valid()


@fuzz(80)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    files=st.dictionaries(
        st.sampled_from(["name", "description", "label", "expiry", "latency", "username", "file"]),
        st.binary(max_size=200).map(lambda b: SimpleUploadedFile("f.bin", b)),
        min_size=1,
        max_size=3,
    ),
)
def test_files_where_text_is_expected(world, clients, endpoint, files):
    with rolled_back():
        client = clients.get(owner=endpoint.logged_in)
        before = snapshot()
        response = no_500(client.post(endpoint_url(endpoint, world), files))
        if response.status_code not in endpoint.writes_on:
            assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_too_many_fields_is_a_400_and_stores_nothing(world, clients, endpoint):
    client = clients.get(owner=endpoint.logged_in)
    before = snapshot()
    body = "&".join(["name=x"] * 1001 + ["latency=batch", "expiry=7"])
    response = no_500(
        client.generic(
            "POST",
            endpoint_url(endpoint, world),
            body,
            content_type="application/x-www-form-urlencoded",
        )
    )
    if endpoint.name.startswith("shared_"):
        assert response.status_code == 405
    elif endpoint.reads_body:
        assert response.status_code == 400
    if response.status_code not in endpoint.writes_on:
        assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_a_body_over_the_upload_limit_is_a_400_and_stores_nothing(
    world, clients, endpoint, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = clients.get(owner=endpoint.logged_in)
    before = snapshot()
    response = no_500(
        client.post(endpoint_url(endpoint, world), {"name": "x" * 20_000, "latency": "batch"})
    )
    if endpoint.name.startswith("shared_"):
        assert response.status_code == 405
    elif endpoint.reads_body:
        assert response.status_code == 400
    if response.status_code not in endpoint.writes_on:
        assert snapshot() == before


@fuzz(60)
@given(endpoint=st.sampled_from(ENDPOINTS), data=ANY_FORM)
def test_without_a_csrf_token_every_post_is_refused(world, clients, endpoint, data):
    with rolled_back():
        client = clients.get(owner=endpoint.logged_in, csrf=True)
        before = snapshot()
        response = no_500(client.post(endpoint_url(endpoint, world), data))
        assert response.status_code == 403
        assert snapshot() == before


# --- Bugs the fuzzing above found, fixed: kept as regression tests ------------------------


@pytest.mark.parametrize("route", ["questionnaire", "save_question"])
def test_a_number_with_thousands_of_digits_is_refused_not_a_500(world, clients, route):
    args = [world.draft.pk] + (["monthly_queries"] if route == "save_question" else [])
    client = clients.get(owner=True)
    before = snapshot()
    response = no_500(
        post(client, reverse(route, args=args), {"monthly_queries": "9" * 5000}, htmx=True)
    )
    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize(("typed", "stored"), [("0" * 5000 + "7", 7), ("0" * 5000, 0)])
def test_a_number_behind_thousands_of_zeros_is_read_not_a_500(world, clients, typed, stored):
    client = clients.get(owner=True)
    url = reverse("save_question", args=[world.draft.pk, "monthly_queries"])
    response = no_500(post(client, url, {"monthly_queries": typed}, htmx=True))
    assert response.status_code == 200
    assert stored_answers(world.draft)["monthly_queries"] == stored


def _import(clients: Clients, content: bytes):
    client = clients.get(owner=True)
    upload = SimpleUploadedFile("export.json", content, "application/json")
    return client.post(reverse("project_import"), {"file": upload})


@pytest.mark.parametrize(
    "content",
    [b'{"format": "advisor-project", "version": ' + b"1" * 5000 + b"}", b"[" * 100_000],
    ids=["huge-integer", "deep-nesting"],
)
def test_an_unparseable_import_file_is_a_422_not_a_500(world, clients, content):
    before = snapshot()
    response = no_500(_import(clients, content))
    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("field", ["name", "description"])
def test_an_import_with_a_nul_character_is_refused(world, clients, field):
    data = export_project(world.project)
    data["project"][field] = "Support\x00bot"
    before = snapshot()
    response = no_500(_import(clients, json.dumps(data).encode()))
    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
    ids=["year-1", "year-9999"],
)
def test_an_import_with_a_timestamp_out_of_range_is_refused(world, clients, moment):
    data = export_project(world.project)
    data["project"]["created_at"] = moment
    before = snapshot()
    response = no_500(_import(clients, json.dumps(data).encode()))
    assert response.status_code == 422
    assert snapshot() == before
