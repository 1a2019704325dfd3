from django import forms
from django.contrib.auth.forms import UserCreationForm

from assessments.models import Project


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "name": "What you are building, e.g. “Support assistant”.",
            "description": "Optional: the product, its users and what the model must do.",
        }
