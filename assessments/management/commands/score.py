"""python manage.py score FILE|- [--format json|text] [--rubric VERSION]: score answers from
a JSON file ({"answers": {...}}, optionally with "rubric_version") under the rubric it names."""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.lanes.engine import LanesResult
from assessments.lanes.rubric import LanesRubric
from assessments.rubric import CURRENT_VERSION, Rubric, RubricError, available_versions, load_rubric
from assessments.scoring import Result, score
from assessments.validation import shortened, shown, validate_answers

EXIT_BAD_INPUT = 2


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent + "  ")


def result_as_text(result: Result, rubric: Rubric) -> str:
    """A terminal summary: verdict first, then why, what would change it, and what to do."""
    label = rubric.verdict_label
    lines = [
        f"Verdict:    {label(result.verdict)} "
        f"({rubric.confidence_label(result.confidence).lower()} confidence)",
        f"Readiness:  {rubric.readiness_label(result.readiness)}",
    ]
    lines += [_wrap(f"- {b['message']} {b['action']}") for b in result.blockers]
    lines.append(
        "Scores:     "
        + ", ".join(f"{label(a)} {s}" for a, s in result.scores.items())
        + f"   (rubric {result.rubric_version})"
    )
    lines += ["", "Signals:"]
    lines += [
        f"  [{'x' if s['raised'] else ' '}] {s['label']} (leans {label(s['leans'])})"
        for s in result.signals
    ]
    lines += ["", "Why:"]
    for point in result.rationale:
        question = rubric.questions[point.question].text
        lines.append(_wrap(f"- {point.reason} [{question} {point.answer_text}]"))
    lines += ["", "What would change the verdict:"]
    lines += [_wrap(f"- {flip['text']}") for flip in result.flips] or ["  (no single answer)"]
    lines += ["", "Warnings:"]
    lines += [_wrap(f"- {w['message']} {w['reason']}") for w in result.warnings] or ["  (none)"]
    lines += ["", "Next steps:"]
    lines += [_wrap(f"[ ] {step}") for step in result.next_steps]
    return "\n".join(lines)


def lanes_result_as_text(result: LanesResult, rubric: LanesRubric) -> str:
    """A terminal summary of a v2 result, named with the rubric's labels."""
    label = rubric.verdict_label
    lanes = " · ".join(
        f"{rubric.lane(lane).label}: {rubric.lane(lane).value_label(value)}"
        for lane, value in result.lanes.items()
    )
    lines = [
        f"Verdict:    {rubric.result_label(result)} "
        f"({rubric.confidence_label(result.confidence).lower()} confidence)",
        f"Lanes:      {lanes}",
        f"Readiness:  {rubric.readiness_label(result.readiness)}",
    ]
    lines += [_wrap(f"- {b['message']} {b['fix']}") for b in result.blockers]
    lines.append(f"Rubric:     {result.rubric_version}")
    lines += ["", "What lowers confidence:"]
    lines += [_wrap(f"- {s['message']} {s['remove']}") for s in result.soft_spots] or [
        "  (nothing)"
    ]
    lines += ["", "Why:"]
    lines += [_wrap(f"- {point['text']}") for point in result.rationale]
    lines += ["", "The other approaches:"]
    status = {"ruled_out": "ruled out", "not_needed": "not needed"}
    lines += [
        _wrap(f"- {a['label']}: {status[a['status']]}. {a['reason']}") for a in result.alternatives
    ]
    lines += ["", "Signals:"]
    lines += [
        f"  [{'x' if s['raised'] else ' '}] {s['label']} (leans {label(s['leans'])})"
        for s in result.signals
    ]
    lines += ["", "What would change the verdict:"]
    for kind, heading in (
        ("action", "Things you can do"),
        ("situation", "If the situation were different"),
    ):
        flips = [f for f in result.flips if f["kind"] == kind]
        if flips:
            lines.append(f"  {heading}:")
            lines += [
                _wrap(f"- {f['text']} → {label(f['verdict'], f['lanes'])}", "    ") for f in flips
            ]
    if not result.flips:
        lines.append("  (no single answer)")
    lines += ["", "Warnings:"]
    lines += [_wrap(f"- {w['message']}") for w in result.warnings] or ["  (none)"]
    lines += ["", "Next steps:"]
    lines += [_wrap(f"[ ] {step['text']}") for step in result.next_steps] or ["  (none)"]
    if result.not_asked:
        names = ", ".join(rubric.questions[q].label for q in result.not_asked)
        lines += ["", _wrap(f"Not asked (ignored): {names}", indent="")]
    return "\n".join(lines)


class BadInput(Exception):
    def __init__(self, lines: list[str]):
        self.lines = lines


def read_payload(source: str) -> Any:
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput([f"{source}: cannot read: {error}"]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput([f"{source}: malformed JSON: {error}"]) from None
    except RecursionError:
        raise BadInput([f"{source}: malformed JSON: nested too deeply"]) from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise BadInput([f"{source}: malformed JSON: {shortened(str(error), 120)}"]) from None


def answers_from(payload: Any) -> Any:
    if not isinstance(payload, dict) or "answers" not in payload:
        raise BadInput(['input: expected an object of the form {"answers": {...}}'])
    return payload["answers"]


def version_from(payload: Any, override: str | None) -> str:
    """--rubric if given, else the input's "rubric_version", else the current version."""
    if override is not None:
        return override
    version = payload.get("rubric_version", CURRENT_VERSION)
    if version not in available_versions():
        raise BadInput(
            [
                f"rubric_version: unknown rubric version {shown(version)} "
                f"(available: {', '.join(available_versions())})"
            ]
        )
    return version


def add_input_arguments(parser: CommandParser) -> None:
    """FILE|-, --format and --rubric, as `score` and `estimate` both read them."""
    parser.add_argument("file", help="a JSON file, or - for standard input")
    parser.add_argument("--format", choices=["json", "text"], default="json")
    parser.add_argument(
        "--rubric",
        default=None,
        help=(
            f"rubric version (available: {', '.join(available_versions())}); "
            f'default: the input\'s "rubric_version", else {CURRENT_VERSION}'
        ),
    )


def check_rubric_option(options: dict[str, Any]) -> None:
    """An unknown --rubric is a usage error before any input is read."""
    if options["rubric"] is not None:
        try:
            load_rubric(options["rubric"])
        except RubricError as error:
            raise CommandError(str(error)) from None


class Command(BaseCommand):
    help = 'Score an assessment given as JSON ({"answers": {...}}) and print the full result.'

    def add_arguments(self, parser: CommandParser) -> None:
        add_input_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        check_rubric_option(options)
        try:
            payload = read_payload(options["file"])
            raw = answers_from(payload)
            rubric = load_rubric(version_from(payload, options["rubric"]))
        except BadInput as bad:
            self._fail(bad.lines)
        answers, problems = validate_answers(raw, rubric)
        if problems:
            self._fail([str(problem) for problem in problems])
        result = score(answers, rubric)
        if options["format"] == "text":
            as_text = lanes_result_as_text if rubric.engine == "lanes" else result_as_text
            self.stdout.write(as_text(result, rubric))
        else:
            self.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))

    def _fail(self, lines: list[str]) -> None:
        for line in lines:
            self.stderr.write(line)
        sys.exit(EXIT_BAD_INPUT)
