"""Every URL that takes an id: anonymous users are sent to log in, other users (and anyone,
for the read-only examples) get a 404, never a 403, and nothing changes; the owner gets in."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from assessments.models import Answer, Assessment, Project, ShareLink
from assessments.services import start_assessment
from assessments.sharing import create_share_link
from tests.factories import set_answers, stored_answers

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    name: str
    kwargs: Callable[[Project, Assessment], dict[str, Any]]
    methods: frozenset[str]  # the methods the view accepts
    owner_status: dict[str, int]  # what the owner gets for each accepted method
    post_data: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda answers: {})


def project_kwargs(project, assessment):
    return {"pk": project.pk}


def assessment_kwargs(project, assessment):
    return {"pk": assessment.pk}


def share_pk(assessment):
    """The assessment's share link, or an id that matches none (a stand-in assessment)."""
    link = ShareLink.objects.filter(assessment_id=assessment.pk).first()
    return link.pk if link else 999_999


def full_form(answers):
    data = {q: v if isinstance(v, list) else str(v) for q, v in answers.items()}
    return data | {"latency": "batch"}


ROUTES = [
    Route("project_detail", project_kwargs, frozenset({"GET"}), {"GET": 200}),
    Route(
        "project_edit",
        project_kwargs,
        frozenset({"GET", "POST"}),
        {"GET": 200, "POST": 302},
        lambda answers: {"name": "Taken over", "description": "Changed by someone"},
    ),
    Route("project_delete", project_kwargs, frozenset({"GET", "POST"}), {"GET": 200, "POST": 302}),
    Route("project_export", project_kwargs, frozenset({"GET"}), {"GET": 200}),
    Route("assessment_create", project_kwargs, frozenset({"POST"}), {"POST": 302}),
    Route(
        "questionnaire",
        assessment_kwargs,
        frozenset({"GET", "POST"}),
        {"GET": 200, "POST": 302},
        full_form,
    ),
    Route(
        "save_question",
        lambda project, assessment: {"pk": assessment.pk, "question_id": "latency"},
        frozenset({"POST"}),
        {"POST": 302},
        lambda answers: {"latency": "batch"},
    ),
    Route("report", assessment_kwargs, frozenset({"GET"}), {"GET": 200}),
    Route("memo", assessment_kwargs, frozenset({"GET"}), {"GET": 200}),
    Route(
        "share_create",
        assessment_kwargs,
        frozenset({"POST"}),
        {"POST": 200},
        lambda answers: {"label": "for the CFO", "expiry": "30"},
    ),
    Route(
        "share_revoke",
        lambda project, assessment: {"pk": assessment.pk, "share_pk": share_pk(assessment)},
        frozenset({"POST"}),
        {"POST": 302},
    ),
]
ROUTE_IDS = [route.name for route in ROUTES]
METHODS = ["GET", "POST"]


def test_the_table_covers_every_url_that_takes_an_id():
    from assessments.urls import urlpatterns

    with_ids = {p.name for p in urlpatterns if "<int:pk>" in str(p.pattern)}
    assert with_ids == set(ROUTE_IDS)


# --- Fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def owner():
    return User.objects.create_user("alice")


@pytest.fixture
def stranger():
    return User.objects.create_user("mallory")


@pytest.fixture
def owned(owner, complete_answers):
    """The owner's project with a complete assessment: (project, assessment)."""
    project = Project.objects.create(owner=owner, name="Support bot", description="Private")
    assessment = start_assessment(project)
    set_answers(assessment, complete_answers)
    create_share_link(assessment, label="for the board")
    return project, assessment


@pytest.fixture
def example(complete_answers):
    """A read-only worked example, owned by no one: (project, assessment)."""
    project = Project.objects.create(
        name="Worked example", is_example=True, example_key="worked-example"
    )
    assessment = Assessment.objects.create(project=project)
    Answer.objects.bulk_create(
        Answer(assessment=assessment, question_id=q, value=v) for q, v in complete_answers.items()
    )
    create_share_link(assessment, label="example link")
    return project, assessment


def snapshot():
    """Every row a view could write, with its timestamps."""
    return (
        list(
            Project.objects.order_by("id").values_list(
                "id", "owner_id", "name", "description", "updated_at"
            )
        ),
        list(
            Assessment.objects.order_by("id").values_list("id", "updated_at", "answers_changed_at")
        ),
        list(
            Answer.objects.order_by("id").values_list(
                "id", "assessment_id", "question_id", "value", "updated_at"
            )
        ),
        list(
            ShareLink.objects.order_by("id").values_list(
                "id", "assessment_id", "label", "token_hash", "expires_at", "revoked_at"
            )
        ),
    )


def request(client, route: Route, method: str, target, answers, **extra):
    url = reverse(route.name, kwargs=route.kwargs(*target))
    if method == "GET":
        return url, client.get(url, **extra)
    return url, client.post(url, route.post_data(answers), **extra)


# --- Anonymous ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_anonymous_user_is_sent_to_login_and_nothing_changes(
    client, owned, complete_answers, route, method
):
    before = snapshot()

    url, response = request(client, route, method, owned, complete_answers)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={quote(url)}"
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_anonymous_htmx_post_sends_the_whole_page_to_login_and_nothing_changes(
    client, owned, complete_answers, route
):
    before = snapshot()

    _, response = request(client, route, "POST", owned, complete_answers, HTTP_HX_REQUEST="true")

    # Not a 302 that htmx would follow and swap into a status line: a full-page redirect.
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))
    assert snapshot() == before


# --- Another user ------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_other_user_gets_404_and_nothing_changes(
    client, stranger, owned, complete_answers, route, method
):
    client.force_login(stranger)
    before = snapshot()

    _, response = request(client, route, method, owned, complete_answers)

    # A method the view never accepts is refused before the lookup: 405 leaks nothing.
    assert response.status_code == (404 if method in route.methods else 405)
    assert snapshot() == before
    if response.status_code == 404:
        content = response.content.decode()
        assert "Support bot" not in content
        assert "Private" not in content


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_other_user_htmx_post_gets_404_and_nothing_changes(
    client, stranger, owned, complete_answers, route
):
    client.force_login(stranger)
    before = snapshot()

    _, response = request(client, route, "POST", owned, complete_answers, HTTP_HX_REQUEST="true")

    assert response.status_code == (404 if "POST" in route.methods else 405)
    assert snapshot() == before


def test_other_user_gets_404_for_report(client, stranger, owned):
    client.force_login(stranger)
    response = client.get(reverse("report", args=[owned[1].pk]))
    assert response.status_code == 404
    assert "not yours to see" in response.content.decode()


def test_other_users_projects_never_appear_in_the_project_list(client, stranger, owned):
    client.force_login(stranger)
    response = client.get(reverse("project_list"))
    assert response.status_code == 200
    assert "Support bot" not in response.content.decode()


def test_missing_ids_are_404_like_other_peoples(client, owner, owned, complete_answers):
    client.force_login(owner)
    missing = (Project(pk=999_999), Assessment(pk=999_999))
    for route in ROUTES:
        for method in route.methods:
            _, response = request(client, route, method, missing, complete_answers)
            assert response.status_code == 404, (route.name, method)


# --- Worked examples (owned by no one) ---------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_example_project_is_404_on_owner_only_urls_for_logged_in_users(
    client, stranger, example, complete_answers, route, method
):
    client.force_login(stranger)
    before = snapshot()

    _, response = request(client, route, method, example, complete_answers)

    assert response.status_code == (404 if method in route.methods else 405)
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_example_project_is_404_on_owner_only_urls_even_for_staff(
    client, example, complete_answers, route
):
    admin = User.objects.create_superuser("root", password=None)
    client.force_login(admin)
    before = snapshot()

    for method in route.methods:
        _, response = request(client, route, method, example, complete_answers)
        assert response.status_code == 404, method
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_a_users_project_flagged_as_example_is_not_editable_by_its_owner(
    client, owner, owned, complete_answers, route
):
    project, _ = owned
    Project.objects.filter(pk=project.pk).update(is_example=True, example_key="flagged")
    client.force_login(owner)
    before = snapshot()

    for method in route.methods:
        _, response = request(client, route, method, owned, complete_answers)
        assert response.status_code == 404, method
    assert snapshot() == before


def test_example_report_stays_public(client, example):
    response = client.get(reverse("example_report", args=["worked-example"]))
    assert response.status_code == 200


# --- The owner ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_owner_gets_in_with_every_accepted_method(client, owner, owned, complete_answers, route):
    client.force_login(owner)
    for method in sorted(route.methods & set(route.owner_status)):
        _, response = request(client, route, method, owned, complete_answers)
        assert response.status_code == route.owner_status[method], method
        if response.status_code == 302:
            assert not response.url.startswith(reverse("login"))


def test_owner_edit_changes_the_project(client, owner, owned, complete_answers):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index("project_edit")]
    request(client, route, "POST", owned, complete_answers)
    assert Project.objects.get(pk=owned[0].pk).name == "Taken over"


def test_owner_delete_removes_the_project(client, owner, owned, complete_answers):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index("project_delete")]
    request(client, route, "POST", owned, complete_answers)
    assert not Project.objects.filter(pk=owned[0].pk).exists()


def test_owner_new_assessment_is_created(client, owner, owned, complete_answers):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index("assessment_create")]
    request(client, route, "POST", owned, complete_answers)
    assert owned[0].assessments.count() == 2


def test_owner_share_create_makes_a_link(client, owner, owned, complete_answers):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index("share_create")]
    request(client, route, "POST", owned, complete_answers)
    assert owned[1].share_links.filter(label="for the CFO").exists()


def test_owner_share_revoke_revokes_the_link(client, owner, owned, complete_answers):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index("share_revoke")]
    request(client, route, "POST", owned, complete_answers)
    assert owned[1].share_links.get().revoked_at is not None


def test_owner_memo_is_a_pdf(client, owner, owned, complete_answers):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index("memo")]
    _, response = request(client, route, "GET", owned, complete_answers)
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("name", ["questionnaire", "save_question"])
def test_owner_saves_answers(client, owner, owned, complete_answers, name):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index(name)]
    request(client, route, "POST", owned, complete_answers)
    assert stored_answers(owned[1])["latency"] == "batch"


def test_owner_htmx_save_gets_200(client, owner, owned, complete_answers):
    client.force_login(owner)
    route = ROUTES[ROUTE_IDS.index("save_question")]
    _, response = request(client, route, "POST", owned, complete_answers, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
