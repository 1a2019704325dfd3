from django.contrib import admin

from assessments.models import Answer, Assessment, Membership, Project, ShareLink


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    readonly_fields = ["updated_at"]


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "project"
    extra = 0
    raw_id_fields = ["user", "added_by"]
    readonly_fields = ["added_at"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_example", "updated_at"]
    list_filter = ["is_example"]
    search_fields = ["name", "description", "owner__username"]
    inlines = [MembershipInline]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["project", "rubric_version", "created_at", "answers_changed_at"]
    list_select_related = ["project"]
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["assessment", "question_id", "value", "updated_at"]
    search_fields = ["question_id"]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["assessment", "label", "created_at", "expires_at", "revoked_at", "view_count"]
    readonly_fields = ["token_hash", "view_count", "last_viewed_at"]
