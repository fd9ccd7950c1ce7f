"""One page of a long list: its items, which page it is, of how many; the pager macro of
templates/_navigation.html shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from campaign.db import id_from

T = TypeVar("T")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # from 1
    pages: int  # at least 1, also for an empty list
    total: int  # items on all pages


def page_number(text: str | None, pages: int) -> int:
    """Return the page asked for in `text` (?page=), brought within 1 to `pages`."""
    return min(id_from(text) or 1, max(pages, 1))


def _position(
    session: Session, statement: Select[*tuple[Any, ...]], asked: str | None, size: int
) -> tuple[int, int, int]:
    """Return the page number asked for, the number of pages and the total of a select."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.scalar(counted) or 0
    pages = max((total + size - 1) // size, 1)
    return page_number(asked, pages), pages, total


def page_of(
    session: Session, statement: Select[T], asked: str | None, size: int = PAGE_SIZE
) -> Page[T]:
    """Return page `asked` (?page=) of the objects an ordered one-entity select finds."""
    number, pages, total = _position(session, statement, asked, size)
    items = session.scalars(statement.offset((number - 1) * size).limit(size))
    return Page(list(items), number, pages, total)


def page_of_rows(
    session: Session, statement: Select[*tuple[Any, ...]], asked: str | None, size: int = PAGE_SIZE
) -> Page[Row[Any]]:
    """Return page `asked` (?page=) of the rows an ordered select of several columns finds."""
    number, pages, total = _position(session, statement, asked, size)
    rows = session.execute(statement.offset((number - 1) * size).limit(size))
    return Page(list(rows.all()), number, pages, total)
