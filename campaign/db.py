"""The declarative Base, the engine and sessions of one application.

Views get a session per request from `session()`; commands and jobs open their own with
`open_session(app)`. Domain functions receive a session and never commit. No column default
reads the clock: whoever makes a row sets its times from the `now` it was given.
"""

from __future__ import annotations

import enum
import json
import operator
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    Select,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    make_url,
    select,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, sessionmaker
from sqlalchemy.types import TypeDecorator, TypeEngine
from werkzeug.routing import IntegerConverter, ValidationError

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored as UTC, always returned timezone-aware, naive values refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return an aware instant as the database stores it: in UTC (naive on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return a stored instant as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class: type[enum.Enum], name: str) -> SAEnum:
    """Store an enum by value as a string with a CHECK constraint, the same on every database."""
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """The models' base: constraint names by convention, instants aware, dicts as JSON."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout on every connection."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # psycopg 3 is the driver we install
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    return _sqlite_engine(url)


def _sqlite_engine(url: str) -> Engine:
    """Create a SQLite engine that waits for a lock up to 30 seconds, with its pragmas."""
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys and the write-ahead log for a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The largest id an Integer column holds on every database we run on (PostgreSQL's integer is
# 32 bits; SQLite's 64): a larger number names no row, and must not reach the database.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: an id the database can hold, so a larger number is a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        """Return the id of a URL part; a 404 for one too long to be an id."""
        if not value.isascii() or len(value) > len(str(MAX_ID)):  # int() fails past 4,300 digits
            raise ValidationError()
        return super().to_python(value)


def id_from(text: str | None) -> int | None:
    """Return the id written in `text` (ASCII digits within MAX_ID), or None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory and close request sessions on teardown;
    every `<int:...>` route takes only ids the database can hold."""
    engine = make_engine(app.config["CAMPAIGN_DATABASE_URL"])
    app.extensions["campaign.db"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_request_session)
    app.url_map.converters["int"] = IdConverter


def engine_of(app: Flask) -> Engine:
    """Return the engine behind an application's sessions."""
    factory: sessionmaker[Session] = app.extensions["campaign.db"]
    return factory.kw["bind"]


def session() -> Session:
    """Return this request's session; the view that changes data commits it."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["campaign.db"]()
    return g.db_session


def first_or_404(statement: Select[T]) -> T:
    """Return the first row the query finds in this request's session, or answer 404."""
    found = session().scalar(statement)
    if found is None:
        abort(404)
    return found


def get_or_404(model: type[T], row_id: int) -> T:
    """Return the row of `model` with this id in this request's session, or answer 404."""
    found = session().get(model, row_id)
    if found is None:
        abort(404)
    return found


def rollback() -> None:
    """Undo whatever this request wrote and did not commit (for the error pages, which must
    neither keep half a change nor fail on a transaction the database has aborted)."""
    db_session = g.get("db_session")
    if db_session is not None:
        db_session.rollback()


def insert_many(db_session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows of `model` in the session's transaction, straight through the driver:
    COPY on PostgreSQL, one executemany on SQLite. Each row names the same columns, with values
    as the database stores them (an enum by its value, no aware datetimes): the column types
    are not applied."""
    if not rows:
        return
    connection = db_session.connection()
    quote = connection.dialect.identifier_preparer.quote
    columns = list(rows[0])
    row_values = operator.itemgetter(*columns) if len(columns) > 1 else lambda r: (r[columns[0]],)
    into = f"{quote(model.__tablename__)} ({', '.join(map(quote, columns))})"
    if connection.dialect.name != "postgresql":
        values = ", ".join("?" for _ in columns)  # sqlite3's parameter style
        connection.exec_driver_sql(
            f"INSERT INTO {into} VALUES ({values})", list(map(row_values, rows))
        )
        return
    psycopg_connection: Any = connection.connection.driver_connection
    with psycopg_connection.cursor() as cursor, cursor.copy(f"COPY {into} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row_values(row))


def listed(db_session: Session, values: Collection[Any], type_: TypeEngine[Any]) -> Select[Any]:
    """A query of `values` as rows of one column, `value`, all given in one parameter: an array
    unnested on PostgreSQL, a JSON list on SQLite. Thousands of parameters take longer to
    render, send and parse than the query takes to run."""
    if db_session.get_bind().dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(type_))
        return select(func.unnest(array).label("value"))
    text = bindparam(None, json.dumps(list(values)), type_=Text)
    return select(func.json_each(text).table_valued("value").c.value)


def among(
    db_session: Session, column: ColumnElement[T] | QueryableAttribute[T], values: Collection[T]
) -> ColumnElement[bool]:
    """The condition that `column` holds one of `values`, given in one parameter (`listed`).
    On PostgreSQL this beats `= ANY(array)`, which compares every row of a small table with
    every element when the statement's plan is a prepared, generic one; IN (SELECT ...) hashes."""
    return column.in_(listed(db_session, values, column.type))


@contextmanager
def open_session(app: Flask) -> Iterator[Session]:
    """Open a session for a command or job; the caller commits, anything else rolls back."""
    with app.extensions["campaign.db"]() as db_session:
        yield db_session


def _close_request_session(_exc: BaseException | None) -> None:
    """Close this request's session, if it opened one."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
