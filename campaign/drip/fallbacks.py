"""Warnings of `campaign sequences check`: optional placeholders used without a fallback.

A member may leave its contact person, guide or meeting software empty, a participant their
name, a meeting its link. A step that writes `({{ member.contact_email }})` then mails
"…hör av dig till Caroline Rundlöf ()". Each such placeholder must be used under a fallback:
inside `{% if name %}`, through `|default("…", true)`, or as `name or "…"` /
`name if name else "…"`. The check warns (it does not fail) at the file and line of each use
without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from jinja2 import nodes

from campaign.drip.files import SEQUENCES_DIR, Problem, Step, load_sequences
from campaign.outbox.compose import CONTENT

# The placeholders that may be empty for some participant, member or meeting.
OPTIONAL = frozenset(
    {
        "participant.name",
        "participant.first_name",
        "participant.title",
        "member.meeting_software",
        "member.contact_name",
        "member.contact_title",
        "member.contact_email",
        "member.guide_url",
        "next_event.join_url",
    }
)
DEFAULTS = ("default", "d")


def warnings(root: Path = SEQUENCES_DIR) -> list[Problem]:
    """Return a warning for each optional placeholder a step uses without a fallback."""
    sequences, _problems = load_sequences(root)
    steps = [s for seq in sequences.values() for lang in seq.steps.values() for s in lang]
    return [warning for step in steps for warning in step_warnings(step)]


def step_warnings(step: Step) -> list[Problem]:
    """Return the warnings of one step's subject and body, at their lines in its file."""
    found = [(step.subject_line, name) for _line, name in unguarded(step.subject)]
    found += [(step.body_line + line - 1, name) for line, name in unguarded(step.body)]
    return [Problem(step.path, line, _message(name)) for line, name in found]


def _message(name: str) -> str:
    return (
        f"warning: {{{{ {name} }}}} may be empty; give it a fallback "
        f'({{% if {name} %}}…{{% endif %}} or {name}|default("…", true))'
    )


def unguarded(source: str) -> list[tuple[int, str]]:
    """Return (line, name) of each optional placeholder in `source` used without a fallback;
    none for a template that does not compile (the check reports that)."""
    try:
        tree = CONTENT.parse(source)
    except Exception:
        return []
    return sorted(set(_walk(tree, frozenset())))


def _walk(node: nodes.Node, guarded: frozenset[str]) -> Iterator[tuple[int, str]]:
    """Yield the unguarded optional placeholders under `node`; `guarded` are the names an
    enclosing test has checked."""
    if isinstance(node, nodes.If):
        yield from _walk_if(node, guarded)
    elif isinstance(node, nodes.Filter) and node.name in DEFAULTS:
        yield from _walk_all([*node.args, *node.kwargs], guarded)
    elif isinstance(node, nodes.CondExpr):
        yield from _walk(node.expr1, guarded | _names(node.test))
        yield from _walk_all([node.expr2] if node.expr2 else [], guarded)
    elif isinstance(node, nodes.Or):
        yield from _walk(node.right, guarded)
    elif (name := _dotted(node)) in OPTIONAL and name not in guarded:
        yield node.lineno, name
    else:
        yield from _walk_all(list(node.iter_child_nodes()), guarded)


def _walk_if(node: nodes.If, guarded: frozenset[str]) -> Iterator[tuple[int, str]]:
    """The body of `{% if x %}` may use x; its `elif` and `else` branches may not."""
    yield from _walk_all(node.body, guarded | _names(node.test))
    yield from _walk_all([*node.elif_, *node.else_], guarded)


def _walk_all(children: list[nodes.Node], guarded: frozenset[str]) -> Iterator[tuple[int, str]]:
    for child in children:
        yield from _walk(child, guarded)


def _names(test: nodes.Node) -> frozenset[str]:
    """The dotted placeholders a test mentions."""
    kinds = (nodes.Getattr, nodes.Getitem, nodes.Name)
    found = {_dotted(n) for n in [test, *test.find_all(kinds)]}
    return frozenset(name for name in found if name)


def _dotted(node: nodes.Node) -> str | None:
    """Return `a.b` for `a.b` or `a["b"]`; None for anything else."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        parent = _dotted(node.node)
        return f"{parent}.{node.attr}" if parent else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        parent = _dotted(node.node)
        return f"{parent}.{node.arg.value}" if parent else None
    return None
