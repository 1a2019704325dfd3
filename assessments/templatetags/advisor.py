"""How a result's verdict, confidence and readiness are written in templates. Every label
comes from the rubric the result was scored with."""

from django import template
from django.utils.html import format_html

from assessments.rubric import Rubric, load_rubric
from assessments.scoring import Result

register = template.Library()

# Readiness is never shown by colour alone.
READINESS_MARKS = {"ready": "✓", "not_ready": "⚠"}


def _rubric(result: Result) -> Rubric:
    return load_rubric(result.rubric_version)


@register.filter
def verdict_label(result: Result) -> str:
    return _rubric(result).result_label(result)


@register.filter
def confidence_label(result: Result) -> str:
    return _rubric(result).confidence_label(result.confidence)


@register.simple_tag
def readiness(result: Result, badge: bool = False) -> str:
    """“✓ Ready” or “⚠ Not ready”; with badge=True, as a badge."""
    label = _rubric(result).readiness_label(result.readiness)
    text = f"{READINESS_MARKS[result.readiness]} {label}"
    if not badge:
        return text  # a simple tag's text is escaped like any variable
    css = "badge-ready" if result.readiness == "ready" else "badge-not-ready"
    return format_html('<span class="badge {}">{}</span>', css, text)
