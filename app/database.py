"""Engine tuning and the application's write transactions.

A change to a project is written by the workflow engine's step writer in `step_transaction`
(one statement in autocommit on PostgreSQL through the API, else the session's unit of
work); other rows — users, tokens, the security log, notifications read — are written in a
`unit_of_work`. A step whose decision reads what steps on other projects write is decided
and written in one `serialised_step`.

SQLite is the zero-setup default, so it gets the settings that make it behave under
concurrent writers: WAL (readers never block the writer), a busy timeout, foreign keys, and
write transactions that take the write lock at BEGIN. Without `BEGIN IMMEDIATE` two
transactions that both read and then write deadlock on the lock upgrade and one fails at
once with "database is locked", whatever the busy timeout.
"""

import fcntl
import hashlib
import select
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass

import psycopg
from flask import g
from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper
from sqlalchemy import Select, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from .errors import DomainError
from .extensions import db

_write_intent: ContextVar[bool] = ContextVar("jigai_write_intent", default=False)
_unit_depth: ContextVar[int] = ContextVar("jigai_unit_depth", default=0)
_on_commit: ContextVar[list | None] = ContextVar("jigai_on_commit", default=None)


class QueuedWriterConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions first queue on an OS file lock.

    SQLite's busy handler makes a waiting writer sleep and retry, up to 100 ms at a time, so
    with many writers the lock sits free while they sleep. A blocking `flock` on a file
    beside the database instead wakes the next writer the moment the last one commits, in
    any thread or gunicorn worker. The busy timeout stays as the fallback for writers that
    do not queue (another program, the sqlite3 shell).
    """

    writer_lock_path: str | None = None
    _lock_file = None
    _holding = False

    def queue_for_write(self) -> None:
        if self.writer_lock_path is None:
            return
        if self._lock_file is None:
            self._lock_file = open(self.writer_lock_path, "a+b")  # noqa: SIM115 — kept open
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        self._holding = True

    def leave_write_queue(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_write_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_write_queue()

    def close(self) -> None:
        self.leave_write_queue()
        if self._lock_file is not None:
            self._lock_file.close()
        super().close()


def sqlite_connect_args(path: str | None, busy_timeout_seconds: float) -> dict:
    args = {"timeout": busy_timeout_seconds}
    if path and path != ":memory:":
        args["factory"] = QueuedWriterConnection
    return args


def configure_engine(engine: Engine, busy_timeout_seconds: float) -> None:
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _refuse_dead_connection)
        event.listen(engine, "connect", _without_jit)
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if isinstance(dbapi_connection, QueuedWriterConnection):
            dbapi_connection.writer_lock_path = f"{database}-writer"
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        writing = _write_intent.get()
        if not writing:
            conn.exec_driver_sql("BEGIN")
        else:
            raw = conn.connection.dbapi_connection
            queued = isinstance(raw, QueuedWriterConnection)
            if queued:
                raw.queue_for_write()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                if queued:
                    raw.leave_write_queue()
                raise
        conn.info["write_lock"] = writing


def configure_step_engine(engine: Engine) -> None:
    """The `steps` engine's connections send every integer as int8: a statement's parameter
    types then never vary with the values (psycopg picks the smallest integer type that
    fits), so each shape of step is prepared once per connection, not once per mix of sizes.
    (The statements cast to the column types.)"""

    @event.listens_for(engine, "connect")
    def _wide_integers(dbapi_connection, _record):
        dbapi_connection.adapters.register_dumper(int, Int8Dumper)
        dbapi_connection.adapters.register_dumper(int, Int8BinaryDumper)


def _without_jit(dbapi_connection, _record) -> None:
    """No just-in-time compilation of queries: PostgreSQL starts it for any plan it expects
    to be costly, and compiling costs hundreds of milliseconds — more than the short queries
    of a page it would speed up (seen on the agencies' queue at 10⁶ projects: 0.5 s of 1.4).
    A setting of the session, so that the stock server needs no change (deploy/postgresql.conf
    sets it for the whole server)."""
    dbapi_connection.execute("SET jit = off")
    dbapi_connection.commit()


def _refuse_dead_connection(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout) is replaced at
    checkout. An idle connection's socket has nothing to read unless the server ended it, so
    one non-blocking poll tells — where a ping would cost a round trip on every request."""
    if dbapi_connection.closed or select.select([dbapi_connection.fileno()], [], [], 0)[0]:
        raise DisconnectionError()


_AUTOCOMMIT = "jigai_autocommit_connection"
STEPS = "steps"  # the engine whose connections stay in autocommit mode (PostgreSQL)


@dataclass
class DriverConnection:
    """A pooled connection used through its driver (a step on PostgreSQL): what `Prepared`
    and the change-set writer need of a SQLAlchemy Connection."""

    connection: object  # the pool's connection wrapper; .driver_connection is psycopg's
    dialect: Dialect

    def close(self) -> None:
        self.connection.close()  # back to the pool (a broken one is discarded there)


def autocommit_statements() -> None:
    """On PostgreSQL, let each statement of this request's step commit on its own.

    For requests whose one write is a single statement — a workflow step, written as one
    statement (see workflow/changeset.py) — this saves the BEGIN and COMMIT round trips, and
    the step reads and writes through the driver on a connection of the `steps` engine,
    whose pool keeps them in autocommit mode: no ORM session, no SQLAlchemy connection.
    SQLite keeps its write transactions (and the session)."""
    engine = db.engines.get(STEPS)
    if engine is not None and _AUTOCOMMIT not in g:
        g.setdefault(_AUTOCOMMIT, DriverConnection(engine.raw_connection(), engine.dialect))


def step_connection() -> Connection:
    """The connection a workflow step reads and writes through: the request's autocommit
    connection when it has one, else the session's."""
    return g.get(_AUTOCOMMIT) or db.session.connection()


@contextmanager
def step_transaction() -> Iterator[Connection]:
    """The connection a step's write is made on, in its transaction: on the request's
    autocommit connection the write, one statement, is its own transaction; otherwise the
    session's unit of work, which commits when the block ends. Within a `step_batch`, a
    savepoint of the batch's transaction."""
    batch = _batch.get()
    if batch is not None:
        with batch.savepoint() as connection:
            yield connection
        return
    connection = g.get(_AUTOCOMMIT)
    if connection is None:
        with unit_of_work():
            yield db.session.connection()
        return
    yield connection


class StepBatch:
    """Many steps written in few transactions (a bulk decision): each step in a savepoint of
    the open transaction, so a step that fails is undone alone, and the transaction committed
    once it has run for `seconds` — other writers wait at most that long (on SQLite, for the
    whole database's lock; on PostgreSQL, for the rows it wrote). What a step leaves is
    exactly what it would leave alone: one change per project, with its own audit event.
    Callbacks (`after_commit`) run once the steps' transaction has committed.

    On the API's autocommit connection (PostgreSQL) the steps are sent in psycopg's pipeline
    mode and their results read only at the commit (`defer`): PostgreSQL writes one step while
    the next is composed. A step whose version had moved on writes nothing (its statement is
    conditional), so it needs no savepoint: it is told when its result is read. A statement
    that fails aborts the transaction; then it is rolled back (out of the pipeline: a rollback
    inside it makes psycopg lose track of which statements the server has prepared) and its
    steps are taken again one by one as single steps, each read afresh (`take`), so only the
    failing one is refused.

    A `serialised_step` is a batch of one step, whose transaction first takes its locks;
    not pipelined, since the step reads on the connection as it decides."""

    def __init__(self, seconds: float, pipelined: bool = True):
        self.seconds = seconds
        self.driver = g.get(_AUTOCOMMIT)
        self.raw = self.driver.connection.driver_connection if self.driver else None
        self.deferring = self.raw is not None and pipelined
        self.pipeline = self._pipelined = None
        self.unit = None
        self.connection = None  # the session's, in its unit of work
        self.started = 0.0
        self.pending: list | None = None
        self._token = None
        self.taken: list[tuple[Callable, Callable]] = []  # this transaction's (run, refuse)
        self.deferred: list[tuple] = []  # (cursor, resolve, refuse) whose results wait

    def begin(self) -> None:
        if self.raw is not None:
            self.pending = []
            self._token = _on_commit.set(self.pending)
            if self.deferring:
                self._pipelined = self.raw.pipeline()
                self.pipeline = self._pipelined.__enter__()
            self.raw.execute("BEGIN")
        else:
            self.unit = unit_of_work()
            self.unit.__enter__()
            self.connection = db.session.connection()
        self.started = time.monotonic()

    def take(self, run: Callable[[bool], None], refuse: Callable[[Exception], None]) -> None:
        """Take one listed item: `run(fresh)` fires its step and tells the item how it went
        (`fresh`: read the project again first); `refuse(error)` tells it later, when its
        deferred result shows that it wrote nothing."""
        if not self.deferring:
            run(False)
        else:
            self.taken.append((run, refuse))
            try:
                run(False)
            except psycopg.Error:
                self._take_again()
                self.begin()
        self.checkpoint()

    def defer(self, cursor, resolve: Callable[[list], None]) -> None:
        """A step's statement was sent on the pipeline: `resolve(rows)` once it has run (it
        may raise a DomainError, which refuses the item being taken)."""
        self.deferred.append((cursor, resolve, self.taken[-1][1]))

    def commit(self) -> None:
        if self.raw is not None:
            try:
                self.raw.execute("COMMIT")
                self._end_pipeline()  # sent, and waited for
            except psycopg.Error:
                if not self.deferring:
                    raise
                self._take_again()
                return
            self._resolve()
            self.taken = []
            _on_commit.reset(self._token)
            pending, self.pending = self.pending, None
            for callback in pending:
                callback()
        else:
            unit, self.unit = self.unit, None
            unit.__exit__(None, None, None)

    def _resolve(self) -> None:
        deferred, self.deferred = self.deferred, []
        for cursor, resolve, refuse in deferred:
            try:
                resolve(cursor.fetchall())
            except DomainError as err:
                refuse(err)
            finally:
                cursor.close()

    def _take_again(self) -> None:
        """A deferred statement failed, so the open transaction is aborted: roll it back and
        take its steps again one by one, each read afresh and written as a single step is —
        one statement that commits on its own — so only the failing one is refused."""
        self._abandon()
        taken, self.taken = self.taken, []
        token = _batch.set(None)
        try:
            for run, _refuse in taken:
                run(True)
        finally:
            _batch.reset(token)

    def _abandon(self) -> None:
        """Leave the pipeline and roll the transaction back, forgetting its deferred results
        and callbacks."""
        with suppress(psycopg.Error):  # the failure being handled, or what it aborted
            self._end_pipeline()
        # outside the pipeline: a rollback inside it makes psycopg lose track of which
        # statements the server still has prepared
        self.raw.execute("ROLLBACK")
        for cursor, _resolve, _refuse in self.deferred:
            cursor.close()
        self.deferred = []
        _on_commit.reset(self._token)
        self.pending = None

    def rollback(self, error: BaseException) -> None:
        if self.raw is not None:
            self._abandon()
        elif self.unit is not None:
            unit, self.unit = self.unit, None
            unit.__exit__(type(error), error, error.__traceback__)

    def _end_pipeline(self) -> None:
        if self.pipeline is not None:
            self.pipeline = None
            self._pipelined.__exit__(None, None, None)

    def checkpoint(self) -> None:
        """Between two steps: commit what ran for long enough, and go on in a new
        transaction."""
        if time.monotonic() - self.started >= self.seconds:
            self.commit()
            self.begin()

    def lock(self, keys: Iterable[str]) -> None:
        """Hold each key until the transaction ends; a step holding one waits for no other
        step on it (PostgreSQL: transaction-scoped advisory locks, in the keys' order so
        that two steps never wait for each other; SQLite: the write lock the transaction
        took at BEGIN holds everything)."""
        connection = self.driver or self.connection
        if connection.dialect.name != "postgresql":
            return
        raw = connection.connection.driver_connection
        for key in sorted(set(keys)):
            raw.execute("SELECT pg_advisory_xact_lock(%s)", [lock_number(key)])
        if self.pipeline is not None:
            self.pipeline.sync()  # held once this returns, whichever connection reads next

    @contextmanager
    def savepoint(self) -> Iterator:
        if self.deferring:  # a deferred step is undone with its whole transaction, if at all
            yield self.driver
            return
        # by hand on the driver: the session's own nested transactions cost more than a step
        connection = self.driver or self.connection
        raw = connection.connection.driver_connection
        raw.execute("SAVEPOINT step")
        try:
            yield connection
        except BaseException:
            raw.execute("ROLLBACK TO SAVEPOINT step")
            raw.execute("RELEASE SAVEPOINT step")
            raise
        raw.execute("RELEASE SAVEPOINT step")


_batch: ContextVar[StepBatch | None] = ContextVar("jigai_step_batch", default=None)


@contextmanager
def step_batch(seconds: float, pipelined: bool = True) -> Iterator[StepBatch]:
    """Steps taken in the block are written in a `StepBatch`; call its `checkpoint()`
    between them."""
    batch = StepBatch(seconds, pipelined)
    batch.begin()
    token = _batch.set(batch)
    try:
        yield batch
    except BaseException as err:
        _batch.reset(token)
        batch.rollback(err)
        raise
    _batch.reset(token)
    batch.commit()


def deferring_batch() -> StepBatch | None:
    """The batch whose steps' results are read at its commit (see `StepBatch`), if any."""
    batch = _batch.get()
    return batch if batch is not None and batch.deferring else None


@contextmanager
def serialised_step(keys: Iterable[str]) -> Iterator[None]:
    """Decide and write one step in a transaction that holds `keys` from before the decision
    reads anything: for a step whose decision reads rows that steps on other projects write
    (an enterprise's claims under its caps), which the version check on its own project
    cannot guard. Two such steps on one key are decided one after the other, the second on
    what the first wrote. The transaction is a `StepBatch` of one step (within a batch, the
    batch's own), so the write still goes through `step_transaction` and is retried alone
    if it loses a deadlock; the step's reads of those rows go through `step_connection`."""
    batch = _batch.get()
    if batch is not None:
        batch.lock(keys)
        yield
        return
    with step_batch(seconds=0, pipelined=False) as batch:
        batch.lock(keys)
        yield


def lock_number(key: str) -> int:
    """A key's number for PostgreSQL's advisory locks (a signed 64-bit integer)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big",
                          signed=True)


def release_step_connection(_error=None) -> None:
    connection = g.pop(_AUTOCOMMIT, None)
    if connection is not None:
        connection.close()


@contextmanager
def unit_of_work() -> Iterator:
    """One transaction for one state change: commit when the block ends, roll back on error.

    Re-entrant: an inner unit joins the outer one, and only the outermost commits.

    What a request reads before its unit (the user, the project) it reads outside the write
    lock, as on PostgreSQL: every change is a conditional UPDATE on the version the actor
    saw, so a project changed meanwhile makes the change a 409, never a lost update. On
    SQLite the write lock is thus held only while the change itself is made.
    """
    depth = _unit_depth.get()
    session = db.session()  # the current scoped Session itself
    if depth:
        yield session
        return
    intent_token = _write_intent.set(True)
    depth_token = _unit_depth.set(1)
    committed: list = []
    commit_token = _on_commit.set(committed)
    try:
        if session.in_transaction() and not session.connection().info.get("write_lock", True):
            # A read-only snapshot is open (SQLite, deferred BEGIN); upgrading it to a writer
            # could fail at once with "database is locked". Nothing is pending in it, so end
            # it (keeping what it loaded) and let the write transaction take the lock at BEGIN.
            _commit_keeping_objects(session)
        yield session
        # What this unit wrote is what its objects now hold, so keep them loaded: the
        # response that follows (the project just changed) reads them without reloading.
        _commit_keeping_objects(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        _on_commit.reset(commit_token)
        _unit_depth.reset(depth_token)
        _write_intent.reset(intent_token)
    for callback in committed:
        callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current unit of work has committed (never if it rolls back);
    outside one — a step's single statement in autocommit — the write has committed: now."""
    pending = _on_commit.get()
    if pending is None:
        callback()
    else:
        pending.append(callback)


class Prepared:
    """A Core SELECT compiled once per dialect and run on the driver's own cursor.

    For the few queries on every step's path (the caller, the project): there SQLAlchemy's
    per-execution work — the statement's cache key, result metadata built from the cursor's
    description — costs more than the query. On PostgreSQL the statement is compiled with
    $n placeholders and run by psycopg's raw cursor, prepared once per connection, so psycopg
    need not parse it on each call either. Values still pass through the column types' bind
    and result processors, so they read exactly as they would through SQLAlchemy.
    """

    def __init__(self, build: Callable[[], Select]):
        self._build = build
        self._compiled: dict[str, tuple] = {}

    def _for(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            statement = self._build()
            numbered = dialect.name == "postgresql"
            compiled = statement.compile(
                dialect=type(dialect)(paramstyle="numeric_dollar") if numbered else dialect)
            binds = [(name, bind_processor(compiled.binds[name].type, dialect))
                     for name in compiled.positiontup]
            columns = list(statement.selected_columns)
            found = self._compiled[dialect.name] = (
                compiled.string, binds, numbered, [c.key for c in columns],
                [c.type.dialect_impl(dialect).result_processor(dialect, None)
                 for c in columns])
        return found

    def rows(self, connection: Connection, params: dict) -> list[dict]:
        """The result rows, each a dict by column label."""
        sql, binds, numbered, names, processors = self._for(connection.dialect)
        values = [processor(params[name]) if processor else params[name]
                  for name, processor in binds]
        driver = connection.connection.driver_connection
        if numbered:
            found = run_prepared(driver, sql, values)
        else:
            cursor = driver.cursor()
            try:
                found = cursor.execute(sql, values).fetchall()
            finally:
                cursor.close()
        converters = list(zip(names, processors, strict=True))
        return [{name: processor(value) if processor else value
                 for (name, processor), value in zip(converters, row, strict=True)}
                for row in found]


def bind_processor(type_, dialect: Dialect):
    """How values of this column type are sent to the dialect's driver (None: as they are)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


def send_prepared(driver_connection, sql: str, values: list):
    """Send `sql` as `run_prepared` runs it; its cursor, whose rows are read (and which is
    closed) by the caller — later, on a connection in pipeline mode."""
    cursor = psycopg.RawCursor(driver_connection)
    cursor.execute(sql, values, prepare=True, binary=True)
    return cursor


def run_prepared(driver_connection, sql: str, values: list) -> list:
    """Run `sql`, with $n placeholders, on psycopg's raw cursor: no placeholder parsing on
    each call, prepared once per connection, values and rows in binary."""
    with send_prepared(driver_connection, sql, values) as cursor:
        return cursor.fetchall()


REPLICA = "replica"


@contextmanager
def report_reader() -> Iterator[Session]:
    """The session reports read through: the replica's (REPLICA_DATABASE_URL) when one is
    configured — its figures trail the primary by the replication lag — else the app's own."""
    engine = db.engines.get(REPLICA)
    if engine is None:
        yield db.session
        return
    with Session(engine) as session:
        yield session


def _commit_keeping_objects(session) -> None:
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


# Name search lives beside the models, made by migration 0009: a pg_trgm index on PostgreSQL,
# an FTS5 trigram table (with the shadow tables FTS5 keeps) on SQLite.
NAME_SEARCH_TABLE = "projects_fts"
NAME_SEARCH_INDEX = "ix_projects_name_trgm"


def include_object(_obj, name, type_, reflected, compare_to) -> bool:
    """Schema comparison (autogenerate, the migrations test) leaves the search objects be."""
    if reflected and compare_to is None:
        return not (name == NAME_SEARCH_INDEX or (type_ == "table"
                                                   and name.startswith(NAME_SEARCH_TABLE)))
    return True
