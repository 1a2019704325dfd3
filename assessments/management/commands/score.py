"""python manage.py score FILE|- [--format json|text]: score answers from a JSON file."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.reports import result_as_text
from assessments.rubric import CURRENT_VERSION, RubricError, available_versions, load_rubric
from assessments.scoring import score
from assessments.validation import validate_answers

EXIT_BAD_INPUT = 2


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


def answers_from(payload: Any) -> Any:
    if not isinstance(payload, dict) or "answers" not in payload:
        raise BadInput(['input: expected an object of the form {"answers": {...}}'])
    return payload["answers"]


class Command(BaseCommand):
    help = 'Score an assessment given as JSON ({"answers": {...}}) and print the full result.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a JSON file, or - for standard input")
        parser.add_argument("--format", choices=["json", "text"], default="json")
        parser.add_argument(
            "--rubric",
            default=CURRENT_VERSION,
            help=f"rubric version (available: {', '.join(available_versions())})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rubric = load_rubric(options["rubric"])
        except RubricError as error:
            raise CommandError(str(error)) from None
        try:
            raw = answers_from(read_payload(options["file"]))
        except BadInput as bad:
            self._fail(bad.lines)
        answers, problems = validate_answers(raw, rubric)
        if problems:
            self._fail([str(problem) for problem in problems])
        result = score(answers, rubric)
        if options["format"] == "text":
            self.stdout.write(result_as_text(result, answers, rubric))
        else:
            self.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))

    def _fail(self, lines: list[str]) -> None:
        for line in lines:
            self.stderr.write(line)
        sys.exit(EXIT_BAD_INPUT)
