import json

from django import forms

from assessments.models import Project
from assessments.sharing import EXPIRY_CHOICES


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "name": "What you are building, e.g. “Support assistant”.",
            "description": "Optional: the product, its users and what the model must do.",
        }


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        max_length=80,
        required=False,
        help_text="Optional: who it is for, e.g. “for the CFO”. Only you see it.",
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

    def expires_in_days(self) -> int | None:
        return EXPIRY_CHOICES[self.cleaned_data["expiry"]]


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
