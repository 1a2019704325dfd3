"""Shared fixtures: the people, projects and assessments most tests act on, built with the
factories in tests/factories.py."""

import os
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from hypothesis import settings as hypothesis_settings

from assessments.examples import EXAMPLE_FILES, load_scenarios
from assessments.models import Assessment, Membership, Milestone, Project, ShareLink
from assessments.rubric import load_rubric
from assessments.sharing import create_share_link, revoke_share_link
from tests.factories import ExampleProjectFactory, ProjectFactory, UserFactory, V1AssessmentFactory

# CI replays the same examples on every run, so a run that lands is reproducible; on a
# developer's machine each run explores new ones (`HYPOTHESIS_PROFILE=default` in CI too).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

SUPPORT_BOT = "support-bot"  # the worked example whose answers are complete_answers
V2_SUPPORT_BOT = "v2-support-bot-hybrid"  # the one whose answers are complete_v2_answers
# A draft: a few answers, "no new knowledge" among them.
DRAFT_ANSWERS = {
    "knowledge_needs": ["none"],
    "latency": "batch",
    "eval_set": "yes",
    "monthly_queries": 5000,
}
SECRET = "Private: the board has not seen this yet"


def scenario_answers(scenario_id: str) -> dict[str, Any]:
    """The answers of one of the app's worked examples (assessments/data/scenarios*.json)."""
    scenarios = (scenario for path in EXAMPLE_FILES for scenario in load_scenarios(path))
    return dict(next(s for s in scenarios if s["id"] == scenario_id)["answers"])


@pytest.fixture
def rubric():
    """Rubric v1: the rubric of the v1 fixtures below (assessment, complete_assessment, world)."""
    return load_rubric("v1")


@pytest.fixture
def complete_answers() -> dict[str, Any]:
    """A valid, complete answer set (the support-bot scenario: hybrid, ready)."""
    return scenario_answers(SUPPORT_BOT)


@pytest.fixture
def complete_v2_answers() -> dict[str, Any]:
    """A valid, complete rubric v2 answer set (support bot: hybrid, ready, high confidence)."""
    return scenario_answers(V2_SUPPORT_BOT)


@pytest.fixture
def fast_password_hashing(settings) -> None:
    """Real hashing is deliberately slow; tests of account flows check the flow, not the
    hasher (prod-check signs in with the real one)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def owner(db) -> User:
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db) -> User:
    return UserFactory(username="mallory")


@pytest.fixture
def owner_client(client, owner):
    """The test client, signed in as `owner` (idle clock just restarted, so query counts of
    its first requests are those of any later request)."""
    client.force_login(owner)
    session = client.session
    session["_idle_refreshed_at"] = int(time.time())
    session.save()
    return client


@pytest.fixture
def project(owner) -> Project:
    return ProjectFactory(owner=owner, description="Answers customers in our voice.")


@pytest.fixture
def assessment(project) -> Assessment:
    """The owner's assessment, nothing answered yet."""
    return V1AssessmentFactory(project=project)


@pytest.fixture
def complete_assessment(project, complete_answers) -> Assessment:
    return V1AssessmentFactory(project=project, answers=complete_answers)


@dataclass(frozen=True)
class World:
    """Everything the access table and the fuzz tests act on."""

    owner: User
    other_user: User
    editor: User  # a member of `project` (only) who may change it
    viewer: User  # a member of `project` (only) who may read it
    editor_membership: Membership
    viewer_membership: Membership
    project: Project  # the owner's, with SECRET as its description
    assessment: Assessment  # of `project`, complete
    share: ShareLink  # an active link to `assessment`, showing `milestone`
    token: str
    revoked: ShareLink  # a revoked link to `assessment`
    revoked_token: str
    milestone: Milestone  # of `assessment`: the snapshot `share` shows
    draft: Assessment  # the owner's other project, DRAFT_ANSWERS only
    foreign_assessment: Assessment  # complete, of a project of other_user's
    foreign_share: ShareLink
    example: Assessment  # of a read-only worked example, owned by no one
    answers: dict[str, Any]  # the complete answers

    @property
    def foreign_project(self) -> Project:
        return self.foreign_assessment.project


@pytest.fixture
def world(owner, other_user, complete_answers) -> World:
    project = ProjectFactory(owner=owner, description=SECRET)
    editor, viewer = UserFactory(username="erin"), UserFactory(username="victor")
    editor_membership, viewer_membership = (
        Membership.objects.create(project=project, user=user, role=role, added_by=owner)
        for user, role in ((editor, "editor"), (viewer, "viewer"))
    )
    assessment = V1AssessmentFactory(project=project, answers=complete_answers)
    share, token = create_share_link(assessment, label="for the board")
    revoked, revoked_token = create_share_link(assessment, label="old")
    revoke_share_link(revoked)
    draft = V1AssessmentFactory(project__owner=owner, project__name="Draft", answers=DRAFT_ANSWERS)
    foreign = V1AssessmentFactory(
        project__owner=other_user, project__name="Not yours", answers=complete_answers
    )
    foreign_share, _ = create_share_link(foreign)
    example = V1AssessmentFactory(project=ExampleProjectFactory(), answers=complete_answers)
    return World(
        owner=owner,
        other_user=other_user,
        editor=editor,
        viewer=viewer,
        editor_membership=editor_membership,
        viewer_membership=viewer_membership,
        project=project,
        assessment=assessment,
        share=share,
        token=token,
        revoked=revoked,
        revoked_token=revoked_token,
        milestone=share.milestone,
        draft=draft,
        foreign_assessment=foreign,
        foreign_share=foreign_share,
        example=example,
        answers=dict(complete_answers),
    )


@pytest.fixture(autouse=True)
def _empty_cache_after_real_transactions(request, django_db_blocker):
    """Tests run on the real cache, a table in the test database (settings.CACHES). A test's
    rollback empties it; a test with real transactions commits to it, so it is emptied after."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames:
        with django_db_blocker.unblock():
            caches["default"].clear()
