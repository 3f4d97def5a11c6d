"""Engine tuning and the one way the application opens a write transaction.

SQLite is the zero-setup default, so it gets the settings that make it behave under
concurrent writers: WAL (readers never block the writer), a busy timeout, foreign keys, and
write transactions that take the write lock at BEGIN. Without `BEGIN IMMEDIATE` two
transactions that both read and then write deadlock on the lock upgrade and one fails at
once with "database is locked", whatever the busy timeout.
"""

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db

_write_intent: ContextVar[bool] = ContextVar("jigai_write_intent", default=False)
_unit_depth: ContextVar[int] = ContextVar("jigai_unit_depth", default=0)


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
        _unit_depth.reset(depth_token)
        _write_intent.reset(intent_token)


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
