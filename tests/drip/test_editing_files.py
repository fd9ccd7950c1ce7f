"""The editor's work on a sequence's files, without the web: steps moved, removed and added with
their keys kept, a step written back with its unchanged lines as they were, the changes
between versions line by line, and a problem placed at its field."""

from __future__ import annotations

from pathlib import Path

from campaign.drip import stored
from campaign.drip.editing import (
    Draft,
    changed_steps,
    draft_of,
    moved,
    new_slot,
    removed,
    slot_of,
    slots,
    slug_of,
    with_draft,
)
from campaign.drip.files import Problem
from campaign.drip.history import compared, lines_of
from campaign.drip.placing import placed
from campaign.drip.rewriting import rewritten, split

NAME = "pilot-group"
FILES = stored.shipped_files(NAME)


def test_the_steps_in_order_with_their_keys() -> None:
    order = slots(FILES)
    assert [s.ident for s in order] == [f"{n:02d}" for n in range(1, 9)]
    assert order[0].name == "01-valkommen.md"


def test_a_move_swaps_two_steps_and_writes_their_keys() -> None:
    files = moved(FILES, "03", -1)
    assert files is not None
    assert [s.ident for s in slots(files)][:4] == ["01", "03", "02", "04"]
    assert files["sv/02-bra-ljud.md"].startswith("---\nkey: '03'\noffset:")
    assert files["en/03-prova-med-nagon-du-kanner.md"].startswith("---\nkey: '02'\n")
    assert stored.checked(NAME, files)[1] == []
    assert moved(FILES, "01", -1) is None and moved(FILES, "08", 1) is None
    assert changed_steps(FILES, files) == 2
    back = moved(files, "03", 1)
    assert back is not None and [s.ident for s in slots(back)] == [s.ident for s in slots(FILES)]


def test_a_removed_step_leaves_the_others_numbered_as_they_were() -> None:
    files = removed(FILES, "04")
    assert files is not None and len(files) == 14
    assert [s.number for s in slots(files)] == ["01", "02", "03", "05", "06", "07", "08"]
    assert removed(FILES, "99") is None
    assert changed_steps(FILES, files) == 1


def test_a_new_step_goes_last_named_after_its_subject() -> None:
    slot = new_slot(FILES, "12", "Tack för {{ participant.first_name }} – och hej då!")
    assert slot is not None and slot.name == "09-tack-for-och-hej-da.md" and slot.ident == "12"
    draft = Draft(subjects={"sv": "Tack", "en": "Thanks"}, bodies={"sv": "Hej!", "en": "Hi!"})
    files = with_draft(FILES, slot, draft)
    assert files["sv/09-tack-for-och-hej-da.md"] == (
        "---\nkey: '12'\noffset: +1w\nat: 09:00\nsubject: Tack\n---\nHej!\n"
    )
    assert slug_of("{{ x }}") == "steg"


def test_a_step_written_back_keeps_its_unchanged_lines() -> None:
    text = FILES["sv/08-nasta-prova-pa-mote.md"]
    meta, body = split(text)
    assert rewritten(text, meta, body) == text
    changed = rewritten(text, {**meta, "at": "10:00"}, body)
    assert changed.replace("at: '10:00'", 'at: "09:00"') == text
    slot = slot_of(FILES, "08")
    assert slot is not None and with_draft(FILES, slot, draft_of(FILES, slot)) == FILES


def test_the_changes_between_versions() -> None:
    files = moved(FILES, "02", 1)
    assert files is not None
    changes = compared(FILES, files)
    assert {(c.before, c.after) for c in changes} == {
        ("sv/02-prova-med-nagon-du-kanner.md", "sv/03-prova-med-nagon-du-kanner.md"),
        ("en/02-prova-med-nagon-du-kanner.md", "en/03-prova-med-nagon-du-kanner.md"),
        ("sv/03-bra-ljud.md", "sv/02-bra-ljud.md"),
        ("en/03-bra-ljud.md", "en/02-bra-ljud.md"),
    }
    assert all(c.moved for c in changes)
    lines = lines_of("a\nb\nc\nd\ne\nf\ng\nh\ni\n", "a\nB\nc\nd\ne\nf\ng\nh\nI\n")
    assert [(x.kind, x.before, x.after) for x in lines if x.kind != "same"] == [
        ("removed", 2, None), ("added", None, 2), ("gap", None, None),
        ("removed", 9, None), ("added", None, 9),
    ]  # fmt: skip


def test_a_problem_is_placed_at_its_field_and_line(app) -> None:  # type: ignore[no-untyped-def]
    file = "sv/02-prova-med-nagon-du-kanner.md"
    problems = [
        Problem(Path(NAME) / file, 3, "09:00 is in the quiet hours: mail is sent between 08:00 "
                "and 18:00"),
        Problem(Path(NAME) / file, 9, "unknown placeholder: 'nick' is undefined"),
        Problem(Path(NAME) / "en/05-visa-tiden-du-sparar.md", 1, "no sv translation (x)"),
    ]  # fmt: skip
    with app.test_request_context():
        found = placed(problems, NAME, "02-prova-med-nagon-du-kanner.md", FILES)
    assert [(p.field, p.file, p.line, p.body_line) for p in found] == [
        ("at", file, 3, None),
        ("body_sv", file, 9, 3),
        (None, "en/05-visa-tiden-du-sparar.md", 1, None),
    ]
    assert str(found[1].message) == "Okänd platshållare: nick."
