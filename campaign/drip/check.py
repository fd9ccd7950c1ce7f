"""`campaign sequences check`: load every sequence and render every step against sample data."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import jinja2

from campaign.drip.files import SEQUENCES_DIR, Problem, Step, load_sequences
from campaign.drip.local import marker_problems
from campaign.drip.samples import sample_context
from campaign.outbox.compose import content_template


def check(root: Path = SEQUENCES_DIR) -> tuple[int, list[Problem]]:
    """Return how many steps were read and every problem, each with its file and line."""
    sequences, problems = load_sequences(root)
    steps = [s for seq in sequences.values() for lang in seq.steps.values() for s in lang]
    for step in steps:
        problems += render_problems(step)
    return len(steps), problems


def render_problems(step: Step) -> list[Problem]:
    """Render a step's subject and body with sample data; report what fails, and where (and
    each malformed local place)."""
    context = sample_context()
    found = [
        _render_problem(step.path, step.subject, step.subject_line, context, one_line=True),
        _render_problem(step.path, step.body, step.body_line, context, one_line=False),
    ]
    return [problem for problem in found if problem is not None] + marker_problems(step)


def _render_problem(
    path: Path, source: str, first_line: int, context: dict[str, Any], *, one_line: bool
) -> Problem | None:
    """Render one text of a step; return why it fails, at its line in the file."""
    try:
        content_template(source).render(context)
    except jinja2.TemplateSyntaxError as error:
        line = first_line if one_line else first_line + (error.lineno or 1) - 1
        return Problem(path, line, f"template error: {error.message}")
    except jinja2.UndefinedError as error:
        line = _template_line(error, first_line, one_line)
        return Problem(path, line, f"unknown placeholder: {error.message}")
    return None


def _template_line(error: Exception, first_line: int, one_line: bool) -> int:
    """Return the file line where rendering failed, from the template's frame in the traceback."""
    if one_line:
        return first_line
    lines = [
        f.lineno
        for f in traceback.extract_tb(error.__traceback__)
        if f.filename == "<template>" and f.lineno
    ]
    return first_line + (lines[-1] - 1 if lines else 0)
