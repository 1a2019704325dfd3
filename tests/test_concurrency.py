"""Saving answers from several threads at once, with real transactions on PostgreSQL.

Each thread has its own database connection (Django gives every thread its own) and waits at
a barrier so that all of them hit the database together. Every test is bounded: lock and
statement timeouts on each connection, and timeouts on the barrier and the joins.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from assessments import team
from assessments.models import Answer, Assessment, Membership
from assessments.rubric import load_rubric
from assessments.services import save_answers
from assessments.validation import InvalidAnswers, changes_from_values
from tests.factories import UserFactory, V1AssessmentFactory, set_answers, stored_answers

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite lets one writer in at a time and has no "
        "SELECT ... FOR UPDATE, so these races cannot happen there "
        "(run with DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 30  # seconds, for the barrier and each join
ROUNDS = 3  # races are timing-dependent: run each a few times

# A valid answer for every question (different from the support-bot scenario's where it can).
ANSWERS: dict[str, Any] = {
    "knowledge_change": "weekly",
    "answers_differ_6mo": "no",
    "knowledge_needs": ["documents", "catalog"],
    "behavior_needs": ["format"],
    "kb_state": "partial",
    "labeled_examples": "200_999",
    "prompt_baseline": "above_80",
    "eval_set": "yes",
    "latency": "batch",
    "retrieval_possible": "no",
    "budget": "dedicated",
    "prompt_volume": "yes",
    "monthly_queries": 75000,
    "attribution": "required",
    "regulated": "yes",
}


def run_together(actions: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run each action in its own thread, all released at once; ("ok", result) or
    ("error", exception) for each, in order."""
    barrier = threading.Barrier(len(actions), timeout=TIMEOUT)
    outcomes: list[tuple[str, Any]] = [("error", TimeoutError("did not finish"))] * len(actions)

    def worker(index: int, action: Callable[[], Any]) -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute("SET lock_timeout = '20s'")
                cursor.execute("SET statement_timeout = '20s'")
            barrier.wait()
            outcomes[index] = ("ok", action())
        except BaseException as exc:  # reported to the test, never lost in the thread
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, action), name=f"saver-{i}", daemon=True)
        for i, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after {TIMEOUT}s (a deadlock?): {stuck}"
    return outcomes


def errors(outcomes: list[tuple[str, Any]]) -> list[Any]:
    return [value for kind, value in outcomes if kind == "error"]


def form_value(value: Any) -> list[str]:
    return value if isinstance(value, list) else [str(value)]


@pytest.fixture
def new_assessment(owner):
    """A fresh assessment of the owner's, optionally with answers already saved."""

    def make(answers: dict[str, Any] | None = None) -> Assessment:
        return V1AssessmentFactory(project__owner=owner, project__name="Race", answers=answers)

    return make


def save_one(pk: int, question_id: str, value: Any) -> Any:
    """One typed answer checked and saved as the app saves it, on the calling thread's own
    connection; returns the clean value saved."""
    assessment = Assessment.objects.with_answers().get(pk=pk)
    rubric = load_rubric(assessment.rubric_version)
    changes = changes_from_values(rubric, {question_id: value})
    save_answers(assessment, changes)
    return changes.values.get(question_id)


@pytest.fixture
def owner_clients(owner):
    """n test clients logged in as the owner, each with its own session, or all sharing one
    (several tabs of one browser), warmed up so their first request is not the slow one."""

    def make(n: int, *, shared_session: bool = False) -> list[Client]:
        clients = [Client(raise_request_exception=False) for _ in range(n)]
        for client in clients:
            if shared_session and client is not clients[0]:
                client.cookies = copy.deepcopy(clients[0].cookies)
            else:
                client.force_login(owner)
            client.get(reverse("healthz"))
        return clients

    return make


def autosave(client: Client, assessment: Assessment, question_id: str, value: Any):
    url = reverse("save_question", args=[assessment.pk, question_id])
    return client.post(url, {question_id: form_value(value)}, headers={"HX-Request": "true"})


def describe(response) -> str:
    exc_info = getattr(response, "exc_info", None)
    return f"{response.status_code}" + (f": {exc_info[1]!r}" if exc_info else "")


# --- (a) different questions, through the service ----------------------------------------


@pytest.mark.parametrize("threads", [2, 8, len(ANSWERS)])
def test_different_questions_saved_at_once_all_persist(new_assessment, threads):
    chosen = dict(list(ANSWERS.items())[:threads])
    for _ in range(ROUNDS):
        assessment = new_assessment()

        outcomes = run_together(
            [lambda q=q, v=v, pk=assessment.pk: save_one(pk, q, v) for q, v in chosen.items()]
        )

        assert errors(outcomes) == []
        assert [value for _, value in outcomes] == list(chosen.values())
        assert stored_answers(assessment) == chosen
        assert Answer.objects.filter(assessment=assessment).count() == threads
        assessment.refresh_from_db()
        assert assessment.answers_changed_at is not None


# --- (b) different questions, through HTTP autosave --------------------------------------


@pytest.mark.parametrize("shared_session", [False, True], ids=["own-sessions", "one-session"])
@pytest.mark.parametrize("threads", [2, 8])
def test_different_questions_autosaved_at_once_all_persist(
    new_assessment, owner_clients, threads, shared_session
):
    chosen = dict(list(ANSWERS.items())[:threads])
    clients = owner_clients(threads, shared_session=shared_session)
    for _ in range(ROUNDS):
        assessment = new_assessment()
        outcomes = run_together(
            [
                lambda c=client, a=assessment, q=q, v=v: autosave(c, a, q, v)
                for client, (q, v) in zip(clients, chosen.items(), strict=True)
            ]
        )

        assert errors(outcomes) == []
        statuses = [describe(response) for _, response in outcomes]
        assert statuses == ["200"] * threads
        assert stored_answers(assessment) == chosen


# --- (c) the same question, two values ---------------------------------------------------


@pytest.mark.parametrize("already_answered", [False, True], ids=["unanswered", "answered"])
@pytest.mark.parametrize(
    ("question_id", "values"),
    [
        ("latency", ("realtime", "batch")),
        ("knowledge_needs", (["documents"], ["catalog", "recent_events"])),
        ("monthly_queries", (10, 2_000_000)),
    ],
)
def test_same_question_saved_twice_at_once_keeps_exactly_one_of_the_values(
    new_assessment, question_id, values, already_answered
):
    start = {question_id: ANSWERS[question_id]} if already_answered else None
    for _ in range(ROUNDS):
        assessment = new_assessment(start)

        outcomes = run_together(
            [lambda v=v, pk=assessment.pk: save_one(pk, question_id, v) for v in values]
        )

        assert errors(outcomes) == []
        rows = list(Answer.objects.filter(assessment=assessment, question_id=question_id))
        assert len(rows) == 1
        assert rows[0].value in values


@pytest.mark.parametrize("already_answered", [False, True], ids=["unanswered", "answered"])
def test_same_question_autosaved_twice_at_once_keeps_exactly_one_of_the_values(
    new_assessment, owner_clients, already_answered
):
    values = ("realtime", "interactive")
    clients = owner_clients(2)
    for _ in range(ROUNDS):
        assessment = new_assessment({"latency": "batch"} if already_answered else None)
        outcomes = run_together(
            [
                lambda c=client, a=assessment, v=v: autosave(c, a, "latency", v)
                for client, v in zip(clients, values, strict=True)
            ]
        )

        assert errors(outcomes) == []
        assert [describe(response) for _, response in outcomes] == ["200", "200"]
        rows = list(Answer.objects.filter(assessment=assessment, question_id="latency"))
        assert len(rows) == 1
        assert rows[0].value in values


# --- (d) "no new knowledge" and "no new behaviour" at once -------------------------------


def both_none(assessment: Assessment) -> bool:
    stored = stored_answers(assessment)
    return stored.get("knowledge_needs") == ["none"] == stored.get("behavior_needs")


NEEDS = ("knowledge_needs", "behavior_needs")


def test_no_knowledge_and_no_behaviour_saved_at_once_only_one_succeeds(new_assessment):
    for _ in range(ROUNDS * 2):
        assessment = new_assessment(ANSWERS)

        outcomes = run_together(
            [lambda q=q, pk=assessment.pk: save_one(pk, q, ["none"]) for q in NEEDS]
        )

        failures = errors(outcomes)
        assert len(failures) == 1, outcomes  # the assessment row lock serialises the two
        assert isinstance(failures[0], InvalidAnswers), failures
        assert not both_none(assessment)
        stored = stored_answers(assessment)
        saved = NEEDS[[kind for kind, _ in outcomes].index("ok")]
        assert stored[saved] == ["none"]
        other = NEEDS[1 - NEEDS.index(saved)]
        assert stored[other] == ANSWERS[other]


def test_no_knowledge_and_no_behaviour_autosaved_at_once_only_one_succeeds(
    new_assessment, owner_clients
):
    clients = owner_clients(2)
    for _ in range(ROUNDS * 2):
        assessment = new_assessment(ANSWERS)
        outcomes = run_together(
            [
                lambda c=client, a=assessment, q=q: autosave(c, a, q, ["none"])
                for client, q in zip(clients, NEEDS, strict=True)
            ]
        )

        assert errors(outcomes) == []
        assert sorted(describe(response) for _, response in outcomes) == ["200", "422"]
        assert not both_none(assessment)


def test_whole_form_and_autosave_never_store_no_needs_at_all(new_assessment, owner_clients):
    """The whole form (no JS) says "no new knowledge" while another tab autosaves "no new
    behaviour". Either order is fine, and both may succeed one after the other (the form then
    puts its behaviour answer back), but both "none" may never be stored."""
    form_client, autosave_client = owner_clients(2)
    for _ in range(ROUNDS * 2):
        assessment = new_assessment(ANSWERS)
        form = {q: form_value(v) for q, v in ANSWERS.items()} | {"knowledge_needs": ["none"]}
        url = reverse("questionnaire", args=[assessment.pk])
        outcomes = run_together(
            [
                lambda url=url, form=form: form_client.post(url, form),
                lambda a=assessment: autosave(autosave_client, a, "behavior_needs", ["none"]),
            ]
        )

        assert errors(outcomes) == []
        form_response, autosave_response = (response for _, response in outcomes)
        assert form_response.status_code in (302, 422), describe(form_response)
        assert autosave_response.status_code in (200, 422), describe(autosave_response)
        assert form_response.status_code == 302 or autosave_response.status_code == 200
        assert not both_none(assessment)


# --- (e) a team: editors saving at once ----------------------------------------------------


@pytest.fixture
def editor_clients(owner):
    """A project of the owner's with an assessment and n editors, each with a client of their
    own session, warmed up."""

    def make(n: int) -> tuple[Assessment, list[Client]]:
        assessment = V1AssessmentFactory(project__owner=owner, project__name="Team race")
        clients = []
        for _ in range(n):
            editor = UserFactory()
            Membership.objects.create(project=assessment.project, user=editor, role="editor")
            client = Client(raise_request_exception=False)
            client.force_login(editor)
            client.get(reverse("healthz"))
            clients.append(client)
        return assessment, clients

    return make


def test_two_editors_autosaving_different_questions_at_once_both_persist(editor_clients):
    chosen = dict(list(ANSWERS.items())[:2])
    for _ in range(ROUNDS):
        assessment, clients = editor_clients(2)

        outcomes = run_together(
            [
                lambda c=client, a=assessment, q=q, v=v: autosave(c, a, q, v)
                for client, (q, v) in zip(clients, chosen.items(), strict=True)
            ]
        )

        assert errors(outcomes) == []
        assert [describe(response) for _, response in outcomes] == ["200", "200"]
        assert stored_answers(assessment) == chosen


def loaded_at(client: Client, assessment: Assessment) -> str:
    page = client.get(reverse("questionnaire", args=[assessment.pk])).content.decode()
    return re.search(r'name="loaded_at" value="([^"]+)"', page).group(1)


def test_an_editors_stale_form_never_overwrites_another_editors_autosave(editor_clients):
    """Editor A loaded the whole form before editor B autosaves another latency; A submits
    while (or after) B saves. Whichever lands first, B's answer is the one kept: A's form is
    saved first and B's autosave then changes it, or A's form is refused as stale (409)."""
    for _ in range(ROUNDS * 2):
        assessment, (form_client, autosave_client) = editor_clients(2)
        set_answers(assessment, ANSWERS)
        form = {q: form_value(v) for q, v in ANSWERS.items()} | {"latency": "realtime"}
        form["loaded_at"] = loaded_at(form_client, assessment)
        url = reverse("questionnaire", args=[assessment.pk])

        outcomes = run_together(
            [
                lambda c=form_client, url=url, form=form: c.post(url, form),
                lambda c=autosave_client, a=assessment: autosave(c, a, "latency", "interactive"),
            ]
        )

        assert errors(outcomes) == []
        form_response, autosave_response = (response for _, response in outcomes)
        assert form_response.status_code in (302, 409), describe(form_response)
        assert describe(autosave_response) == "200"
        assert stored_answers(assessment)["latency"] == "interactive"


def test_the_same_person_invited_twice_at_once_becomes_one_member(owner):
    """Two tabs of the owner's invite the same user at the same moment: one membership, and
    the other tab is told they are already a member (never a server error)."""
    for _ in range(ROUNDS):
        project = V1AssessmentFactory(project__owner=owner, project__name="Team").project
        invitee = UserFactory()

        outcomes = run_together(
            [
                lambda p=project, who=invitee.username, role=role: team.invite(p, owner, who, role)
                for role in ("editor", "viewer")
            ]
        )

        failures = errors(outcomes)
        assert len(failures) == 1, outcomes
        assert isinstance(failures[0], team.TeamRefused), failures
        assert "already a member" in str(failures[0])
        assert Membership.objects.filter(project=project, user=invitee).count() == 1
