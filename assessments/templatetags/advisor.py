from django import template

from assessments.reports import READINESS_LABELS, VERDICT_LABELS

register = template.Library()


@register.filter
def verdict_label(code: str) -> str:
    return VERDICT_LABELS.get(code, code)


@register.filter
def readiness_label(code: str) -> str:
    return READINESS_LABELS.get(code, code)
