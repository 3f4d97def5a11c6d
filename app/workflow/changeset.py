"""What one step writes, as data, and the writer that makes it one atomic change.

The engine decides a step in Python and describes its writes before any is made: the project
row's new values under the version the actor saw, then the rows that go with it — the audit
event, the closed stay, the deadlines, the rollup's deltas, the notifications, and whatever
an effect adds or changes (a claim, a loan, an opinion).

PostgreSQL receives the whole description as one statement: a data-modifying WITH whose
first part is the conditional UPDATE of the project and whose every other part reads that
UPDATE's result, so that when another actor moved the project first, nothing at all is
written. One statement is one transaction and one round trip. SQLite runs the same parts in
order inside the caller's transaction (BEGIN IMMEDIATE), the UPDATE first.

The SQL of each shape of change is built once per process; values pass through the column
types' own bind processors, so they are stored exactly as the ORM stores them.
"""

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import Table, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError

from ..database import bind_processor, run_prepared, send_prepared
from ..models import Organization, Project, User


@dataclass(frozen=True)
class Insert:
    table: Table
    values: dict[str, Any]  # column name → value
    if_absent: bool = False  # ON CONFLICT DO NOTHING

    def shape(self):
        return ("insert", self.table.name, tuple(self.values), self.if_absent)

    def params(self):
        return list(self.values.values())


@dataclass(frozen=True)
class Update:
    table: Table
    key: dict[str, Any]
    values: dict[str, Any]

    def shape(self):
        return ("update", self.table.name, tuple(self.values), tuple(self.key))

    def params(self):
        return [*self.values.values(), *self.key.values()]


@dataclass(frozen=True)
class Delete:
    table: Table
    key: dict[str, Any]

    def shape(self):
        return ("delete", self.table.name, tuple(self.key))

    def params(self):
        return list(self.key.values())


@dataclass(frozen=True)
class Tally:
    """Add `measures` to the rollup row `key` (creating it with `also`, e.g. its region);
    `highest` columns keep the larger value instead."""

    table: Table
    key: dict[str, Any]
    measures: dict[str, int]
    also: dict[str, Any] = field(default_factory=dict)
    highest: tuple[str, ...] = ()

    def shape(self):
        return ("tally", self.table.name, tuple(self.key), tuple(self.also),
                tuple(self.measures), self.highest)

    def params(self):
        return [*self.key.values(), *self.also.values(), *self.measures.values()]


@dataclass(frozen=True)
class Audience:
    """Users to notify: members of one organisation, or the agency users of one kind in
    some jurisdictions — less those who took one of the `apart` steps on the project (the
    maker, where a step must be checked by someone else) and agencies linked to the
    enterprise `unlinked` (a conflict of interest)."""

    kind: str  # notification kind: decision | your_turn
    message: dict  # the notification's params, rendered in each reader's language
    org_id: int | None = None
    org_name: str | None = None
    agency_kind: str | None = None
    codes: tuple[str, ...] = ()
    apart: tuple[str, ...] = ()
    unlinked: int | None = None

    def shape(self):
        return (self.org_id is not None, self.org_name is not None, len(self.codes),
                len(self.apart), self.unlinked is not None)

    def params(self):
        chosen = ([self.org_id] if self.org_id is not None else
                  [self.org_name] if self.org_name is not None else
                  [self.agency_kind, *self.codes])
        unlinked = [self.unlinked] if self.unlinked is not None else []
        return [*chosen, *self.apart, *unlinked, self.kind,
                json.dumps(self.message, ensure_ascii=False)]


@dataclass(frozen=True)
class Notify:
    """One notification per user in the first audience that includes them (the active users
    only, never the actor). Returns (user_id, kind, params) of each for the mail."""

    project_id: int
    trigger: str
    created_at: Any
    actor_id: int
    audiences: tuple[Audience, ...]

    def shape(self):
        return ("notify", tuple(a.shape() for a in self.audiences))

    def params(self):
        return [self.actor_id, self.project_id, self.trigger, self.created_at,
                *[p for a in self.audiences for p in a.params()]]


Write = Insert | Update | Delete | Tally | Notify


@dataclass
class ChangeSet:
    """The project row's changes under `expected_version` (0: the row is new), and the
    writes that go with them."""

    project_id: int
    expected_version: int
    project: dict[str, Any]  # column name → value, including the new version
    writes: list[Write] = field(default_factory=list)
    event: Any = None  # the step's audit event (also among the writes)

    def add(self, obj) -> None:
        """Insert a new row built as a (transient) ORM object, its Python defaults applied."""
        self.writes.append(Insert(obj.__table__, row_values(obj)))

    def change(self, obj, **values) -> None:
        """Update a row read through the ORM, by its primary key; the object is left as read."""
        self.writes.append(Update(obj.__table__, primary_key(obj), column_values(type(obj), values)))

    def remove(self, obj) -> None:
        """Delete a row read through the ORM, by its primary key."""
        self.writes.append(Delete(obj.__table__, primary_key(obj)))

    def extend(self, writes: Iterable[Write]) -> None:
        self.writes.extend(writes)


@dataclass
class Written:
    moved: bool  # False: the project's version had moved on, nothing was written
    notified: list[tuple[str, str, dict]] = field(default_factory=list)  # (email, kind, params)


# -- ORM objects to rows ------------------------------------------------------------------


def column_values(model, values: dict) -> dict:
    """Attribute names (as the ORM maps them) → column names."""
    names = _column_names(model)
    return {names[name]: value for name, value in values.items()}


@cache
def _column_names(model) -> dict[str, str]:
    return {attr.key: attr.columns[0].name for attr in inspect(model).column_attrs}


def row_values(obj) -> dict:
    mapper = inspect(type(obj))
    values = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if attr.key in obj.__dict__:
            value = obj.__dict__[attr.key]
        elif column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg
        else:
            continue  # the database's default (server default, identity)
        if value is None and column.primary_key:
            continue
        values[column.name] = value
    return values


def primary_key(obj) -> dict:
    mapper = inspect(type(obj))
    return {c.name: getattr(obj, mapper.get_property_by_column(c).key)
            for c in mapper.primary_key}


# -- the writer ---------------------------------------------------------------------------


def write(connection: Connection, changes: ChangeSet) -> Written:
    """Make the change set's writes; `moved` is False when the project's version had moved
    on (then nothing is written — on SQLite the caller's transaction is left to roll back)."""
    dialect = connection.dialect
    if dialect.name == "postgresql":
        return written(_execute_raw(connection, *_combined(dialect, changes)))
    gate = _gate(changes)
    sql, names = _single_sql(dialect, gate.shape())
    if _driver_rows(connection, sql, _params([gate], names)) == []:
        return Written(moved=False)
    return Written(moved=True, notified=run(connection, changes.writes))


def send(connection, changes: ChangeSet):
    """PostgreSQL, in a batch's pipeline: the change set's statement sent, not waited for;
    its cursor, whose rows `written()` reads once it has run. A failure is psycopg's own
    error, raised by a later command of the pipeline (the batch takes its steps again)."""
    return send_prepared(connection.connection.driver_connection,
                         *_combined(connection.dialect, changes))


def _combined(dialect: Dialect, changes: ChangeSet) -> tuple[str, list]:
    """PostgreSQL: the change set as one statement (the project's gate first, every other
    write reading it) and its values in order."""
    writes = [_gate(changes), *changes.writes]
    sql, names = _combined_sql(dialect, tuple(w.shape() for w in writes))
    return sql, list(_params(writes, names).values())


def written(rows: list) -> Written:
    """What the combined statement's rows say: nothing when the version had moved on, else
    who was notified (with an e-mail address)."""
    if not rows:
        return Written(moved=False)
    return Written(moved=True,
                   notified=[(email, kind, params) for _id, email, kind, params in rows if email])


def _execute_raw(connection: Connection, sql: str, values: list) -> list:
    """Run the combined statement on the driver (a statement this long, with this many
    parameters, psycopg would otherwise parse afresh on every call)."""
    try:
        return run_prepared(connection.connection.driver_connection, sql, values)
    except psycopg.IntegrityError as err:  # as SQLAlchemy reports it on other paths
        raise IntegrityError(sql, None, err) from err


def _driver_rows(connection: Connection, sql: str, params: dict) -> list:
    """One statement of the caller's transaction, run on the driver's own cursor (a step
    makes several: SQLAlchemy's work per execution would cost more than SQLite's); its rows."""
    try:
        cursor = connection.connection.driver_connection.execute(sql, params)
    except sqlite3.IntegrityError as err:  # as SQLAlchemy reports it on other paths
        raise IntegrityError(sql, params, err) from err
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def run(connection: Connection, writes: list[Write]) -> list[tuple[str, str, dict]]:
    """Make `writes` one after another in the caller's transaction (SQLite); returns who was
    notified and has an e-mail address, as (email, kind, params)."""
    notified = []
    for item in writes:
        sql, names = _single_sql(connection.dialect, item.shape())
        rows = _driver_rows(connection, sql, _params([item], names))
        if isinstance(item, Notify):
            notified += _mail_addresses(connection, rows)
    return notified


def _gate(changes: ChangeSet) -> Insert | Update:
    """The project row's write, which every other part depends on: the new row of a project
    the step creates, or the UPDATE on the version the actor saw — the serialisation point
    between concurrent actors."""
    if changes.expected_version == 0:
        return Insert(Project.__table__, changes.project)
    return Update(Project.__table__, {"id": changes.project_id,
                                      "version": changes.expected_version}, changes.project)


def _mail_addresses(connection, notified) -> list[tuple[str, str, dict]]:
    if not notified:
        return []
    ids = {row[0]: row for row in notified}
    found = _driver_rows(connection, "SELECT id, email FROM users WHERE email IS NOT NULL "
                         f"AND id IN ({', '.join(str(int(uid)) for uid in ids)})", {})
    return [(email, ids[uid][1], _json(ids[uid][2])) for uid, email in found]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _params(writes, names) -> dict:
    """The writes' values by parameter name, each through its column's bind processor."""
    values = [value for item in writes for value in item.params()]
    return {name: processor(value) if processor else value
            for (name, processor), value in zip(names, values, strict=True)}


# -- SQL for each shape, built once ----------------------------------------------------------


def _table(name: str) -> Table:
    return Project.metadata.tables[name]


@cache
def _processor(dialect: Dialect, table: str, column: str):
    return bind_processor(_table(table).c[column].type, dialect)


class _Sql:
    """Builds one write's SQL text and the names (with processors) of its parameters.

    In PostgreSQL's combined statement parameters are numbered ($1 …) across all parts,
    which share `names`, and each part but the first is gated: it reads `moved`. Otherwise
    a statement stands on its own, with the driver's named parameters."""

    def __init__(self, dialect: Dialect, gated: bool, names: list | None = None):
        self.dialect, self.gated, self.numbered = dialect, gated, names is not None
        self.pg = dialect.name == "postgresql"
        self.names: list[tuple[str, Any]] = [] if names is None else names
        self.quote = dialect.identifier_preparer.quote

    def param(self, table: str | None, column: str | None, cast: bool = False) -> str:
        name = f"p{len(self.names)}"
        self.names.append((name, _processor(self.dialect, table, column) if table else None))
        placeholder = (f"${len(self.names)}" if self.numbered
                       else f"%({name})s" if self.pg else f":{name}")
        if cast and self.pg and table:
            kind = _table(table).c[column].type.compile(dialect=self.dialect)
            return f"CAST({placeholder} AS {kind})"
        return placeholder

    def build(self, shape) -> str:
        return getattr(self, f"_{shape[0]}")(*shape[1:])

    def _where_gated(self, conditions: list[str]) -> str:
        if self.gated:
            conditions.append("EXISTS (SELECT 1 FROM moved)")
        return " AND ".join(conditions)

    def _row(self, table, columns) -> str:
        """INSERT of one row of `columns` (gated: selected from `moved`)."""
        q = self.quote
        values = ", ".join(self.param(table, c, cast=True) for c in columns)
        head = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) "
        return head + (f"SELECT {values} FROM moved" if self.gated else f"VALUES ({values})")

    def _insert(self, table, columns, if_absent):
        return self._row(table, columns) + (" ON CONFLICT DO NOTHING" if if_absent else "")

    def _update(self, table, columns, key):
        q = self.quote
        sets = ", ".join(f"{q(c)} = {self.param(table, c)}" for c in columns)
        where = [f"{q(c)} = {self.param(table, c)}" for c in key]
        return f"UPDATE {q(table)} SET {sets} WHERE {self._where_gated(where)}"

    def _delete(self, table, key):
        q = self.quote
        where = [f"{q(c)} = {self.param(table, c)}" for c in key]
        return f"DELETE FROM {q(table)} WHERE {self._where_gated(where)}"

    def _tally(self, table, key, also, measures, highest):
        q = self.quote
        insert = self._row(table, (*key, *also, *measures))
        larger = "GREATEST" if self.pg else "max"
        sets = ", ".join(
            f"{q(m)} = {larger}({q(table)}.{q(m)}, excluded.{q(m)})" if m in highest
            else f"{q(m)} = {q(table)}.{q(m)} + excluded.{q(m)}" for m in measures)
        return insert + f" ON CONFLICT ({', '.join(q(c) for c in key)}) DO UPDATE SET {sets}"

    def _notify(self, audiences):
        users, orgs = User.__tablename__, Organization.__tablename__
        actor = self.param(users, "id")
        project = self.param("notifications", "project_id", cast=True)
        trigger = self.param("notifications", "trigger", cast=True)
        at = self.param("notifications", "created_at", cast=True)
        conditions, kinds, params = [], [], []
        q = self.quote
        for by_id, by_name, codes, apart, unlinked in audiences:
            if by_id:
                condition = f"o.id = {self.param(orgs, 'id')}"
            elif by_name:
                condition = f"o.name = {self.param(orgs, 'name')}"
            else:
                kind = self.param(orgs, "agency_kind")
                within = ", ".join(self.param(orgs, "jurisdiction_code") for _ in range(codes))
                condition = (f"o.kind = 'agency' AND o.agency_kind = {kind} "
                             f"AND o.jurisdiction_code IN ({within})")
            if apart:
                steps = ", ".join(self.param("workflow_events", "trigger") for _ in range(apart))
                condition += (" AND NOT EXISTS (SELECT 1 FROM workflow_events e WHERE "
                              f"e.project_id = {project} AND e.actor_id = u.id "
                              f"AND e.{q('trigger')} IN ({steps}))")
            if unlinked:
                condition += (" AND NOT EXISTS (SELECT 1 FROM org_links l WHERE l.agency_id = o.id "
                              f"AND l.enterprise_id = {self.param('org_links', 'enterprise_id')})")
            conditions.append(condition)
            kinds.append(self.param(None, None))
            params.append(self.param(None, None))
        kind_case = " ".join(f"WHEN {c} THEN {k}" for c, k in zip(conditions, kinds, strict=True))
        params_case = " ".join(f"WHEN {c} THEN {p}" for c, p in zip(conditions, params, strict=True))
        params_value = f"CAST(CASE {params_case} END AS JSON)" if self.pg else f"CASE {params_case} END"
        sources = f"moved, {users} u" if self.gated else f"{users} u"
        return (f"INSERT INTO notifications (user_id, project_id, kind, {q('trigger')}, params, "
                f"created_at) SELECT u.id, {project}, CASE {kind_case} END, {trigger}, "
                f"{params_value}, {at} FROM {sources} JOIN {orgs} o ON o.id = u.organization_id "
                f"WHERE u.active AND u.id <> {actor} AND ({' OR '.join(conditions)}) "
                "RETURNING user_id, kind, params")


@cache
def _single_sql(dialect: Dialect, shape) -> tuple[str, list]:
    sql = _Sql(dialect, gated=False)
    text = sql.build(shape)
    if shape[0] in ("insert", "update") and shape[1] == Project.__tablename__:
        text += " RETURNING id"
    return text, sql.names


@cache
def _combined_sql(dialect: Dialect, shapes: tuple) -> tuple[str, list]:
    names: list = []
    parts = []
    notify = None
    for index, shape in enumerate(shapes):
        text = _Sql(dialect, gated=index > 0, names=names).build(shape)
        if index == 0:
            parts.append(f"moved AS ({text} RETURNING id)")
        else:
            name = f"w{index}"
            if shape[0] == "notify":
                notify = name
            parts.append(f"{name} AS ({text})")
    if notify:
        tail = (f"SELECT m.id, u.email, n.kind, n.params FROM moved m LEFT JOIN {notify} n "
                f"ON true LEFT JOIN users u ON u.id = n.user_id AND u.email IS NOT NULL")
    else:
        tail = "SELECT id, NULL, NULL, NULL FROM moved"
    return "WITH " + ",\n".join(parts) + "\n" + tail, names
