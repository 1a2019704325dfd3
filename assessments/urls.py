from django.urls import path

from assessments.views import (
    health,
    memos,
    numbers,
    pages,
    projects,
    questionnaire,
    reports,
    sharing,
)
from assessments.views import milestones as milestone_views
from assessments.views import team as team_views

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("examples/<slug:key>/", pages.example_report, name="example_report"),
    path("examples/<slug:key>/memo.pdf", memos.example_memo, name="example_memo"),
    # Shared by link: no account needed, only the token
    path("s/<str:token>/", sharing.shared_report, name="shared_report"),
    path("s/<str:token>/memo.pdf", sharing.shared_memo, name="shared_memo"),
    path("s/<str:token>/respond/", sharing.shared_respond, name="shared_respond"),
    # Projects
    path("projects/", projects.project_list, name="project_list"),
    path("projects/new/", projects.project_create, name="project_create"),
    path("projects/import/", projects.project_import, name="project_import"),
    path("projects/<int:pk>/", projects.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", projects.project_edit, name="project_edit"),
    path("projects/<int:pk>/delete/", projects.project_delete, name="project_delete"),
    path("projects/<int:pk>/export.json", projects.project_export, name="project_export"),
    path(
        "projects/<int:pk>/assessments/new/",
        projects.assessment_create,
        name="assessment_create",
    ),
    # A project's team (assessments/views/team.py)
    path("projects/<int:pk>/members/", team_views.project_members, name="project_members"),
    path(
        "projects/<int:pk>/members/<int:member_pk>/",
        team_views.member_update,
        name="member_update",
    ),
    path(
        "projects/<int:pk>/members/<int:member_pk>/remove/",
        team_views.member_remove,
        name="member_remove",
    ),
    path("projects/<int:pk>/transfer/", team_views.project_transfer, name="project_transfer"),
    path("projects/<int:pk>/compare/", milestone_views.project_compare, name="project_compare"),
    # Milestones (assessments/views/milestones.py)
    path(
        "assessments/<int:pk>/milestones/",
        milestone_views.milestone_create,
        name="milestone_create",
    ),
    path("milestones/<int:pk>/", milestone_views.milestone_detail, name="milestone_detail"),
    path("milestones/<int:pk>/accept/", milestone_views.milestone_accept, name="milestone_accept"),
    path("milestones/<int:pk>/adr.md", milestone_views.milestone_adr, name="milestone_adr"),
    # Assessments
    path("assessments/<int:pk>/", questionnaire.questionnaire, name="questionnaire"),
    path(
        "assessments/<int:pk>/questions/<slug:question_id>/",
        questionnaire.save_question,
        name="save_question",
    ),
    path(
        "assessments/<int:pk>/questions/<slug:question_id>/note/",
        questionnaire.save_question_note,
        name="save_note",
    ),
    path(
        "assessments/<int:pk>/reassess/",
        projects.assessment_reassess,
        name="assessment_reassess",
    ),
    path("assessments/<int:pk>/report/", reports.report, name="report"),
    path("assessments/<int:pk>/memo.pdf", memos.memo, name="memo"),
    path("milestones/<int:pk>/memo.pdf", memos.milestone_memo, name="milestone_memo"),
    path("assessments/<int:pk>/numbers/", numbers.assessment_numbers, name="assessment_numbers"),
    path("assessments/<int:pk>/shares/", sharing.share_create, name="share_create"),
    path(
        "assessments/<int:pk>/shares/<int:share_pk>/revoke/",
        sharing.share_revoke,
        name="share_revoke",
    ),
    path(
        "assessments/<int:pk>/shares/<int:share_pk>/undo/",
        sharing.share_undo,
        name="share_undo",
    ),
    path(
        "assessments/<int:pk>/shares/<int:share_pk>/dismiss/",
        sharing.share_dismiss,
        name="share_dismiss",
    ),
]
