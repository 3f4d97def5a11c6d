"""Engine tuning and the one way the application opens a write transaction.

SQLite is the zero-setup default, so it gets the settings that make it behave under
concurrent writers: WAL (readers never block the writer), a busy timeout, foreign keys, and
write transactions that take the write lock at BEGIN. Without `BEGIN IMMEDIATE` two
transactions that both read and then write deadlock on the lock upgrade and one fails at
once with "database is locked", whatever the busy timeout.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

_write_intent: ContextVar[bool] = ContextVar("jigai_write_intent", default=False)
_unit_depth: ContextVar[int] = ContextVar("jigai_unit_depth", default=0)


def configure_engine(engine: Engine, busy_timeout_seconds: float) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")
        conn.info["write_lock"] = _write_intent.get()


def declare_write_intent():
    """Make transactions of this context writing ones until `clear_write_intent(token)`.

    Used for unsafe HTTP methods, so the transaction that loads the current user already
    holds the write lock.
    """
    return _write_intent.set(True)


def clear_write_intent(token) -> None:
    _write_intent.reset(token)


@contextmanager
def unit_of_work() -> Iterator:
    """One transaction for one state change: commit when the block ends, roll back on error.

    Re-entrant: an inner unit joins the outer one, and only the outermost commits.
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
            # A read-only snapshot is open (SQLite, deferred BEGIN). Nothing is pending in it,
            # so end it and let the write transaction start with the lock held.
            session.commit()
        yield session
        # What this unit wrote is what its objects now hold, so keep them loaded: the
        # response that follows (the project just changed) reads them without reloading.
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True
    except BaseException:
        session.rollback()
        raise
    finally:
        _unit_depth.reset(depth_token)
        _write_intent.reset(intent_token)


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
