"""The Django side of `make bench`: seed a benchmark database, and count SQL queries per page.

Run by bench/run.py in a subprocess with the server's environment (DATABASE_URL, DEBUG=0 ...),
so it writes to exactly the database gunicorn serves:

    python bench/dbtasks.py seed --users 8 --projects 4 --memo-projects 8 --password PW
    python bench/dbtasks.py queries

Both print one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from assessments.examples import SCENARIOS_V2_FILE, read_scenario_file  # noqa: E402
from assessments.models import Answer, Assessment, Project  # noqa: E402
from assessments.rubric import CURRENT_VERSION  # noqa: E402
from assessments.sharing import create_share_link  # noqa: E402

# The current rubric's worked examples: the reports new assessments get.
SCENARIOS_RUBRIC, SCENARIOS = read_scenario_file(SCENARIOS_V2_FILE)
if SCENARIOS_RUBRIC != CURRENT_VERSION:
    raise SystemExit(f"bench seeds rubric {SCENARIOS_RUBRIC}, but the current is {CURRENT_VERSION}")
# The autosave benchmark flips this required question between two values, so every POST
# really writes; it is always asked, and neither value changes whether answers are valid.
AUTOSAVE_QUESTION = "error_cost"
AUTOSAVE_VALUES = ("medium", "high")


def _complete_answers(index: int) -> dict[str, Any]:
    return dict(SCENARIOS[index % len(SCENARIOS)]["answers"])


def _project(owner, name: str, answers: dict[str, Any], *, assessments: int = 1) -> Project:
    """A project with `assessments` assessments; every one carries `answers`."""
    project = Project.objects.create(owner=owner, name=name, description=f"{name}, for make bench")
    now = timezone.now()
    for _ in range(assessments):
        assessment = Assessment.objects.create(
            project=project, answers_changed_at=now, rubric_version=SCENARIOS_RUBRIC
        )
        Answer.objects.bulk_create(
            Answer(assessment=assessment, question_id=q, value=v) for q, v in answers.items()
        )
    return project


def _current(project: Project) -> Assessment:
    return project.assessments.first()  # newest first (Meta.ordering)


def seed(users: int, projects: int, memo_projects: int, password: str) -> dict[str, Any]:
    """`users` users, each with `projects` complete projects of 2 assessments (the first
    project is the one the load works on); the first user also gets `memo_projects` more,
    each with distinct content so its memo is a first render."""
    tag = secrets.token_hex(3)
    hashed = make_password(password)  # hashed once: PBKDF2 is deliberately slow
    result: dict[str, Any] = {"users": []}
    with transaction.atomic():
        for u in range(users):
            user = get_user_model().objects.create(username=f"bench-{tag}-{u}", password=hashed)
            entry: dict[str, Any] = {"username": user.username, "projects": []}
            for p in range(projects):
                project = _project(user, f"Bench {u}-{p}", _complete_answers(u + p), assessments=2)
                current = _current(project)
                entry["projects"].append({"project": project.pk, "assessment": current.pk})
            if u == 0:
                entry["memo_assessments"] = [
                    _current(_project(user, f"Bench memo {m} {tag}", _complete_answers(m))).pk
                    for m in range(memo_projects)
                ]
            result["users"].append(entry)
    result["autosave"] = {"question": AUTOSAVE_QUESTION, "values": list(AUTOSAVE_VALUES)}
    return result


# --- SQL queries per page -------------------------------------------------------------------

FEW, MANY = "few", "many"
MANY_PROJECTS, MANY_ASSESSMENTS, MANY_SHARES = 20, 10, 5


def _fixture(size: str) -> tuple[Any, Project, Assessment]:
    """FEW: one project, one assessment, one answer, one share link (so one milestone). MANY:
    MANY_PROJECTS projects, the main one with MANY_ASSESSMENTS complete assessments and
    MANY_SHARES share links (each a milestone).

    FEW has one link, not none: Django skips a prefetch whose parent list is empty, so "none
    versus many" would count one query more for many without any query per row; "one versus
    many" is what shows a query per row."""
    user = get_user_model().objects.create(
        username=f"bench-queries-{size}-{secrets.token_hex(3)}", password="!"
    )
    if size == FEW:
        project = _project(user, "Few", {"knowledge_needs": ["documents"]})
        create_share_link(_current(project), label="link 0")
    else:
        for p in range(MANY_PROJECTS - 1):
            _project(user, f"Other {p}", _complete_answers(p), assessments=2)
        project = _project(user, "Many", _complete_answers(2), assessments=MANY_ASSESSMENTS)
        for s in range(MANY_SHARES):
            create_share_link(_current(project), label=f"link {s}")
    return user, project, _current(project)


def _count(client: Client, method: str, url: str, data: dict | None = None) -> int:
    call = client.post if method == "POST" else client.get
    headers = {"HX-Request": "true"} if method == "POST" else {}
    call(url, data, headers=headers)  # warm-up: the first request of a session does more
    if method == "POST":  # the other value, so the POST writes
        data = {k: AUTOSAVE_VALUES[1] for k in data}
    with CaptureQueriesContext(connection) as captured:
        response = call(url, data, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{method} {url} answered {response.status_code}")
    return len(captured.captured_queries)


def pages(project: Project, assessment: Assessment) -> list[tuple[str, str, str, dict | None]]:
    a = assessment.pk
    return [
        ("report", "GET", f"/assessments/{a}/report/", None),
        ("questionnaire", "GET", f"/assessments/{a}/", None),
        ("project list", "GET", "/projects/", None),
        ("project detail", "GET", f"/projects/{project.pk}/", None),
        ("autosave POST", "POST", f"/assessments/{a}/questions/{AUTOSAVE_QUESTION}/",
         {AUTOSAVE_QUESTION: AUTOSAVE_VALUES[0]}),
    ]  # fmt: skip


def queries() -> dict[str, Any]:
    """Queries each page runs for a FEW-sized and a MANY-sized account (same session)."""
    counts: dict[str, dict[str, int]] = {}
    for size in (FEW, MANY):
        user, project, assessment = _fixture(size)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for name, method, url, data in pages(project, assessment):
            counts.setdefault(name, {})[size] = _count(client, method, url, data)
    return {
        "vendor": connection.vendor,
        "sizes": {
            FEW: "1 project, 1 assessment, 1 answer, 1 share link",
            MANY: f"{MANY_PROJECTS} projects, {MANY_ASSESSMENTS} assessments of "
            f"{len(_complete_answers(2))} answers, "
            f"{MANY_SHARES} share links",
        },
        "counts": counts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="task", required=True)
    seeding = sub.add_parser("seed")
    seeding.add_argument("--users", type=int, default=8)
    seeding.add_argument("--projects", type=int, default=4)
    seeding.add_argument("--memo-projects", type=int, default=8)
    seeding.add_argument("--password", required=True)
    sub.add_parser("queries")
    args = parser.parse_args(argv)
    if args.task == "seed":
        out = seed(args.users, args.projects, args.memo_projects, args.password)
    else:
        out = queries()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
