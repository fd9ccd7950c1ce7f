"""The one pager: which page a ?page= asks for, and what a page of a select holds."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.network.models import Organisation
from campaign.pages import Page, page_number, page_of, page_of_rows
from tests.conftest import Network


@pytest.mark.parametrize(
    ("asked", "pages", "number"),
    [(None, 3, 1), ("2", 3, 2), ("9", 3, 3), ("0", 3, 1), ("-1", 3, 1), ("x", 3, 1),
     ("99999999999999999999", 3, 1), ("²", 3, 1), ("1", 0, 1)],
)  # fmt: skip
def test_page_number_is_always_a_page_of_the_list(
    asked: str | None, pages: int, number: int
) -> None:
    assert page_number(asked, pages) == number


def test_a_page_of_objects_and_of_rows(session: Session, network: Network) -> None:
    by_slug = select(Organisation).order_by(Organisation.slug)
    assert page_of(session, by_slug, "2", size=1) == Page([network.beta], 2, 2, 2)
    assert page_of(session, by_slug, "7", size=1).items == [network.beta]
    rows = page_of_rows(
        session, select(Organisation.slug, Organisation.kind).order_by("slug"), None
    )
    assert [tuple(row) for row in rows.items] == [
        ("alpha", network.alpha.kind), ("beta", network.beta.kind),
    ]  # fmt: skip
    assert (rows.number, rows.pages, rows.total) == (1, 1, 2)


def test_an_empty_list_has_one_empty_page(session: Session, network: Network) -> None:
    nothing = select(Organisation).where(Organisation.slug == "none").order_by(Organisation.id)
    assert page_of(session, nothing, "3") == Page([], 1, 1, 0)
