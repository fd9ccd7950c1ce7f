"""The same event about thousands of people at once (an import's enrolments), queued by the
database itself: one INSERT ... SELECT per subscription, never an object or a query per person.

With nobody subscribed it costs one small query. The body is built in SQL from the event's
checked template (json_build_object on PostgreSQL, json_object on SQLite), and so is each
delivery's webhook-id (36 random characters after `msg_`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    Text,
    cast,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.orm import Session

from campaign.webhooks.emit import checked, listening
from campaign.webhooks.models import DeliveryState, WebhookDelivery

# The columns of a delivery a bulk emit fills, in the order of `_deliveries`.
_COLUMNS = [
    "subscription_id", "webhook_id", "event_type", "data", "occurred_at", "state", "attempts",
    "next_attempt_at", "last_error", "created_at",
]  # fmt: skip


def emit_each(
    db_session: Session,
    *,
    campaign_id: int,
    organisation_id: int,
    event_type: str,
    data: dict[str, Any],
    each: tuple[str, Select[Any]],
    now: datetime,
) -> None:
    """Queue the event once for every id the query `each[1]` selects (as the field `each[0]`
    beside `data`) to each enabled subscription to it of the member or the whole campaign."""
    hearing = [s.id for s in listening(db_session, campaign_id, organisation_id)
               if event_type in s.events]  # fmt: skip
    if not hearing:
        return
    field, query = each
    ids = query.subquery()
    template = checked(event_type, campaign_id, {**data, field: 0})
    is_postgresql = db_session.get_bind().dialect.name == "postgresql"
    body = _json_object({**template, field: ids.c[0]}, is_postgresql)
    for subscription_id in hearing:
        values = _deliveries(subscription_id, event_type, body, now, is_postgresql)
        db_session.execute(
            insert(_table()).from_select(_COLUMNS, values.select_from(ids).order_by(ids.c[0]))
        )


def _table() -> Table:
    """The deliveries' table, for Core statements (no ORM bookkeeping per row)."""
    table = WebhookDelivery.__table__
    assert isinstance(table, Table)
    return table


def _deliveries(
    subscription_id: int, event_type: str, body: ColumnElement[Any], now: datetime, pg: bool
) -> Select[Any]:
    """A query of one delivery's values per id, due at once, in the order of `_COLUMNS`."""
    columns = _table().c
    random_id = (
        func.replace(cast(func.gen_random_uuid(), Text), "-", "")
        if pg
        else func.lower(func.hex(func.randomblob(16)))
    )
    return select(
        literal(subscription_id),
        literal("msg_") + random_id,
        literal(event_type),
        body,
        literal(now, columns.occurred_at.type),
        literal(DeliveryState.PENDING, columns.state.type),
        literal(0),
        literal(now, columns.next_attempt_at.type),
        literal(""),
        literal(now, columns.created_at.type),
    )


def _json_object(values: dict[str, Any], pg: bool) -> ColumnElement[Any]:
    """The SQL that builds the JSON object of `values` (numbers, texts, None or columns)."""
    arguments: list[Any] = []
    for key, value in values.items():
        arguments += [cast(literal(key), Text), _json_value(value)]
    return func.json_build_object(*arguments) if pg else func.json_object(*arguments)


def _json_value(value: Any) -> Any:
    """One value of the JSON object, typed for the database (PostgreSQL asks)."""
    if isinstance(value, ColumnElement) or value is None:
        return null() if value is None else value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a bulk event's field must be a number or a text, not {value!r}")
    return cast(literal(value), BigInteger if isinstance(value, int) else Text)
