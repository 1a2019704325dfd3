"""The presenters' data answers the template engine's item lookup (see template_data)."""

import pytest
from django.template import Context, Template

from assessments.presenters import AnswerRef


def test_templates_read_a_field_and_show_nothing_for_a_missing_one():
    ref = AnswerRef(question_id="latency", label="Latency", answer_text="Real time")

    rendered = Template("{{ ref.label }}|{{ ref.missing }}|{{ ref.label.upper }}").render(
        Context({"ref": ref})
    )

    assert rendered == "Latency||LATENCY"


def test_an_unknown_name_is_a_key_error_not_an_attribute_error():
    ref = AnswerRef(question_id="latency", label="Latency", answer_text="Real time")

    assert ref["answer_text"] == "Real time"
    with pytest.raises(KeyError):
        ref["missing"]
