"""Settings read from the environment, with defaults that run on a fresh machine."""

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` spellings and route them to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


PRODUCTION = os.environ.get("JIGAI_ENV", "").lower() == "production"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    INSTANCE_DIR = Path(os.environ.get("JIGAI_INSTANCE_DIR", ROOT / "instance"))
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'jigai.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A streaming replica of the PostgreSQL database that the dashboard and the statistics
    # API read their figures from; unset, they read the primary.
    REPLICA_DATABASE_URL = os.environ.get("REPLICA_DATABASE_URL") or None
    WORKFLOWS_DIR = Path(os.environ.get("JIGAI_WORKFLOWS_DIR", ROOT / "workflows"))

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("zh_CN", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Behind TLS set PREFERRED_URL_SCHEME=https: cookies are then Secure and every answer
    # carries HSTS (create_app).
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    SESSION_COOKIE_SECURE = PRODUCTION or os.environ.get("JIGAI_SECURE_COOKIES") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    # Idle timeout: the session lapses this long after the last request.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("JIGAI_IDLE_MINUTES", "30")))
    SESSION_REFRESH_EACH_REQUEST = True
    # Sign-in throttling (accounts/throttle.py), counted in the database so that every
    # worker and host shares the counts: failures per account and per client address in
    # the window; anonymous API requests (no valid token) per client and minute.
    LOGIN_WINDOW_MINUTES = int(os.environ.get("JIGAI_LOGIN_WINDOW_MINUTES", "15"))
    LOGIN_ACCOUNT_LIMIT = int(os.environ.get("JIGAI_LOGIN_ACCOUNT_LIMIT", "10"))
    LOGIN_CLIENT_LIMIT = int(os.environ.get("JIGAI_LOGIN_CLIENT_LIMIT", "50"))
    API_ANONYMOUS_LIMIT = int(os.environ.get("JIGAI_API_ANONYMOUS_LIMIT", "60"))
    # API tokens lapse this many days after they are issued.
    API_TOKEN_DAYS = int(os.environ.get("JIGAI_API_TOKEN_DAYS", "90"))
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # whole request; a file may use ATTACHMENT_MAX_BYTES
    ATTACHMENT_MAX_BYTES = int(os.environ.get("JIGAI_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
    UPLOAD_DIR = os.environ.get("JIGAI_UPLOAD_DIR")  # default: instance/uploads
    # What one project may hold in all: files, and their bytes together.
    ATTACHMENT_MAX_COUNT = int(os.environ.get("JIGAI_ATTACHMENT_MAX_COUNT", "30"))
    ATTACHMENT_MAX_PROJECT_BYTES = int(os.environ.get("JIGAI_ATTACHMENT_MAX_PROJECT_BYTES",
                                                      100 * 1024 * 1024))

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")  # log | smtp
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes")
    MAIL_FROM = os.environ.get("MAIL_FROM", "jigai@localhost")

    # The mail log backend appends each message, one JSON line, to this file as well (the
    # worker reads it to tell whether a message it was sending when it died went out).
    MAIL_LOG = os.environ.get("MAIL_LOG", str(INSTANCE_DIR / "mail.log"))

    # Background jobs (app/jobs): the queue's storage — a SQLite file by default (no server
    # needed), `redis://…` in deployment — and how the workers keep their jobs alive.
    JOBS_URL = os.environ.get("JIGAI_JOBS_URL", f"sqlite:///{INSTANCE_DIR / 'jobs.sqlite3'}")
    JOBS_NAME = os.environ.get("JIGAI_JOBS_NAME", "jigai")  # the queue's name (key prefix)
    JOBS_IMMEDIATE = False  # run each job at once, in the caller (tests)
    JOBS_WORKERS = int(os.environ.get("JIGAI_JOBS_WORKERS", "2"))  # threads per worker process
    # A running job's worker renews its heartbeat this often; three missed beats and the job
    # counts as lost with its worker, and is queued again for another.
    JOBS_HEARTBEAT_SECONDS = float(os.environ.get("JIGAI_JOBS_HEARTBEAT_SECONDS", "10"))
    JOBS_MAX_ATTEMPTS = int(os.environ.get("JIGAI_JOBS_MAX_ATTEMPTS", "5"))
    JOBS_KEEP_DAYS = int(os.environ.get("JIGAI_JOBS_KEEP_DAYS", "30"))  # finished jobs kept
    MAIL_BATCH = int(os.environ.get("JIGAI_MAIL_BATCH", "50"))  # messages a mail job claims at once

    # Batch imports: what a workbook may be, and how long one chunk of rows may hold the
    # write lock (other writers wait at most that long for an import).
    IMPORT_MAX_BYTES = int(os.environ.get("JIGAI_IMPORT_MAX_BYTES", 10 * 1024 * 1024))
    IMPORT_MAX_UNPACKED = int(os.environ.get("JIGAI_IMPORT_MAX_UNPACKED", 100 * 1024 * 1024))
    IMPORT_MAX_ROWS = int(os.environ.get("JIGAI_IMPORT_MAX_ROWS", "20000"))
    IMPORT_CHUNK_SECONDS = float(os.environ.get("JIGAI_IMPORT_CHUNK_SECONDS", "0.1"))
    # A bulk decision's steps are committed together for at most this long at a time.
    BULK_CHUNK_SECONDS = float(os.environ.get("JIGAI_BULK_CHUNK_SECONDS", "0.1"))

    # How often a step that PostgreSQL aborted as a deadlock's victim or for a serialization
    # failure is written again before the caller is told to try again (409).
    STEP_RETRIES = int(os.environ.get("JIGAI_STEP_RETRIES", "3"))

    # Seconds a writer waits for SQLite's lock before giving up.
    SQLITE_BUSY_TIMEOUT = float(os.environ.get("JIGAI_SQLITE_BUSY_TIMEOUT", "60"))


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    PASSWORD_HASH_COST = "test"
    JOBS_IMMEDIATE = True
    MAIL_LOG = None
