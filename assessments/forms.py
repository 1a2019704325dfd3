import json

from django import forms

from assessments.milestones import milestone_title
from assessments.models import SIGN_OFF_COMMENT_MAX_LENGTH, Milestone, Project, SignOff
from assessments.sharing import EXPIRY_CHOICES, NEW_SNAPSHOT, Response
from assessments.validation import plain_text


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "name": "What you are building, e.g. “Support assistant”.",
            "description": "Optional: the product, its users and what the model must do.",
        }

    # Readers of a share link see both: nothing that hides or reorders text (plain_text).
    def clean_name(self) -> str:
        name = plain_text(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError("Enter a name.")
        return name

    def clean_description(self) -> str:
        return plain_text(self.cleaned_data["description"], multiline=True)


SHOWS_SNAPSHOT, SHOWS_LATEST = "snapshot", "latest"


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        max_length=80,
        required=False,
        help_text="Optional: who it is for, e.g. “for the CFO”. Only your team sees it, "
        "except in the name of a new snapshot (“Shared: for the CFO”), which the reader sees.",
    )
    shows = forms.ChoiceField(
        label="What the link shows",
        initial=SHOWS_SNAPSHOT,
        required=False,  # not sent (a form of before snapshots): a snapshot, the default
        help_text="A snapshot never changes when the answers are edited later; a link to the "
        "latest answers follows every edit and says when they last changed. Readers see the "
        "answers with their notes, and respond to what the link shows.",
    )
    expiry = forms.ChoiceField(
        choices=[
            ("never", "Never"),
            ("7", "In 7 days"),
            ("30", "In 30 days"),
            ("90", "In 90 days"),
        ],  # fmt: skip
        initial="30",
        label="Expires",
    )

    def __init__(self, *args, milestones=(), **kwargs) -> None:
        """`milestones`: the assessment's own, the only ones a link of it may show."""
        super().__init__(*args, **kwargs)
        self.milestones = {f"m{m.pk}": m for m in milestones}
        saved = [(key, milestone_title(m)) for key, m in self.milestones.items()]
        self.fields["shows"].choices = [
            (SHOWS_SNAPSHOT, "A snapshot of the answers now"),
            *([("A milestone saved earlier", saved)] if saved else []),
            (SHOWS_LATEST, "Always the latest answers"),
        ]

    def clean_label(self) -> str:
        return plain_text(self.cleaned_data["label"])  # a snapshot's name shows it to readers

    def expires_in_days(self) -> int | None:
        return EXPIRY_CHOICES[self.cleaned_data["expiry"]]

    def milestone(self):
        """What the link shows as sharing.create_share_link takes it."""
        shows = self.cleaned_data["shows"] or SHOWS_SNAPSHOT
        if shows == SHOWS_SNAPSHOT:
            return NEW_SNAPSHOT
        return None if shows == SHOWS_LATEST else self.milestones[shows]


class ImportForm(forms.Form):
    MAX_BYTES = 1_000_000

    file = forms.FileField(
        label="Project export (.json)",
        help_text="A file made with “Export JSON” on a project page.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 1 MB.")
        try:
            return json.loads(upload.read().decode("utf-8"))
        except (ValueError, RecursionError):  # bad bytes or JSON, huge numbers, deep nesting
            raise forms.ValidationError("The file is not valid JSON.") from None


# --- A project's team (assessments/team.py) ------------------------------------------------

TEAM_ROLE_CHOICES = [("editor", "Editor"), ("viewer", "Viewer")]


class InviteForm(forms.Form):
    who = forms.CharField(
        max_length=254,
        label="Username or verified email address",
        help_text="Someone who already has an account here.",
    )
    role = forms.ChoiceField(
        choices=TEAM_ROLE_CHOICES,
        initial="editor",
        help_text="Editors answer, take notes, save milestones and share links; viewers read, "
        "compare and download.",
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=TEAM_ROLE_CHOICES)


class TransferForm(forms.Form):
    member = forms.TypedChoiceField(
        coerce=int,
        label="New owner",
        error_messages={
            "required": "Choose the member who becomes the owner.",
            "invalid_choice": "Choose one of the project's current members.",
        },
        help_text="They own the project from now on; you stay on as an editor.",
    )

    def __init__(self, *args, members=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        members = list(members)
        self.fields["member"].choices = [("", "Choose a member")] + [
            (m.pk, f"{m.user.username} ({m.get_role_display().lower()})") for m in members
        ]
        if len(members) == 1:  # the only one who can take it over: chosen already
            self.fields["member"].initial = members[0].pk


# --- Sign-off on a shared page (sharing.record_sign_off) -------------------------------------


class SignOffForm(forms.Form):
    name = forms.CharField(max_length=80, label="Your name")
    role = forms.CharField(
        max_length=80, required=False, label="Your role (optional)", help_text="For example “CFO”."
    )
    decision = forms.ChoiceField(
        choices=SignOff.Decision.choices, widget=forms.RadioSelect, label="Your decision"
    )
    comment = forms.CharField(
        max_length=SIGN_OFF_COMMENT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Plain text. Required when you object or approve with conditions: say why, "
        "or which conditions.",
    )
    # When the answers shown last changed (sharing.changed_stamp): a page that no longer shows
    # what the link shows cannot be responded to.
    seen = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    WHY_NEEDED = {
        SignOff.Decision.OBJECT.value: "Add a comment: say why you object.",
        SignOff.Decision.CONDITIONS.value: "Add a comment: say on which conditions you approve.",
    }

    def clean_name(self) -> str:
        name = plain_text(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError("Enter your name.")
        return name

    def clean_role(self) -> str:
        return plain_text(self.cleaned_data["role"])

    def clean_comment(self) -> str:
        return plain_text(self.cleaned_data["comment"], multiline=True)

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision in self.WHY_NEEDED and not cleaned.get("comment") and "comment" in cleaned:
            self.add_error("comment", self.WHY_NEEDED[decision])
        return cleaned

    def response(self) -> Response:
        data = self.cleaned_data
        return Response(data["name"], data["role"], data["decision"], data["comment"])


class MilestoneForm(forms.Form):
    name = forms.CharField(
        max_length=Milestone._meta.get_field("name").max_length,
        required=False,
        label="Milestone name",
        help_text="Optional, e.g. “Board review”. Without one it is named by the date.",
    )

    def clean_name(self) -> str:
        return plain_text(self.cleaned_data["name"])


class MilestoneAcceptForm(forms.Form):
    accepted = forms.TypedChoiceField(
        choices=[("1", "Accepted"), ("0", "Proposed")],
        coerce=lambda value: value == "1",
        label="ADR status",
    )


class CompareForm(forms.Form):
    """Two of a project's assessments ("a<id>") or milestones ("m<id>"); the choices are the
    project's own, so an id of anything else is refused as not one of them."""

    left = forms.ChoiceField(label="Compare")
    right = forms.ChoiceField(label="with")

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("left", "right"):
            self.fields[name].choices = choices
            self.fields[name].error_messages["invalid_choice"] = (
                "Choose one of this project’s assessments or milestones."
            )
