"""Fixtures: the app on each database backend, a clean database per test, API clients.

Every test that touches the database runs twice, on SQLite and on PostgreSQL. PostgreSQL is
the machine's server (TEST_DATABASE_URL, default 127.0.0.1:5432/test); when it cannot be
reached the PostgreSQL half is skipped, except under CI=true, where that is a failure.
"""

import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.config import TestConfig
from app.demo import load_jurisdictions
from app.extensions import db
from app.reporting import rollup as stats
from app.rules import settings as local_settings

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Reference data kept between tests.
KEEP = {"jurisdictions", "alembic_version"}


def _postgres_or_skip(url: str) -> str:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except sa.exc.OperationalError as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {err}")
        pytest.skip(f"PostgreSQL unreachable at {url}")
    return url


def _private_schema(url: str) -> tuple[str, str]:
    """A schema of this test session's own, so that concurrent runs never collide."""
    schema = f"jigai_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return schema, f"{url}{separator}options=-csearch_path%3D{schema}"


def _drop_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/test.sqlite3"
        return
    url = _postgres_or_skip(PG_URL)
    schema, scoped = _private_schema(url)
    yield "postgresql", scoped
    _drop_schema(url, schema)


@pytest.fixture(scope="session")
def app(backend):
    _name, url = backend
    app = create_app(type("BackendConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        upgrade()  # the schema comes from the migrations, as in production
        load_jurisdictions()
    yield app
    with app.app_context():
        db.engine.dispose()


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The audit tables refuse TRUNCATE by trigger; a test database is wiped as
                # the superuser with triggers off for this transaction only.
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                conn.exec_driver_sql("TRUNCATE " + ", ".join(t.name for t in tables)
                                     + " RESTART IDENTITY CASCADE")
            else:
                for table in tables:
                    conn.execute(table.delete())
        local_settings.forget()  # the settings rows an earlier test left in memory are gone


@pytest.fixture
def clean_app(app):
    """The app with an empty database (but its reference data; throttling counts included).

    No app context is held during the test: a test-client request would reuse it (and its
    `g` and database session), which real requests never do. Helpers open their own.
    """
    _wipe(app)
    yield app
    # Whatever the test did, the statistics rollup must still equal a recount.
    with app.app_context():
        assert stats.differences() == []
        db.session.remove()


@pytest.fixture
def client(clean_app):
    return clean_app.test_client()


@pytest.fixture
def runner(clean_app):
    return clean_app.test_cli_runner()


@pytest.fixture
def live_server(clean_app):
    """The app served over HTTP on a free port, for the browser."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, clean_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true (make test installs it)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
