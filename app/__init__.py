"""Jigai (技改项目库): the technical-transformation project library."""

from flask import Flask, request

from . import workflow
from .config import PRODUCTION, ROOT, Config, normalise_database_url
from .database import (
    REPLICA,
    STEPS,
    configure_engine,
    configure_step_engine,
    release_step_connection,
    sqlite_connect_args,
)
from .extensions import babel, csrf, db, login_manager, migrate
from .i18n import install_catalogue, select_locale
from .inbox import notifications
from .jobs import outbox
from .jobs import queue as jobs_queue
from .jsonio import JigaiJSONProvider
from .reporting import rollup
from .web import init_web


def create_app(config: dict | type | None = None) -> Flask:
    """Build the application; `config` (a mapping or a settings class) overrides Config."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"))
    app.json_provider_class = JigaiJSONProvider
    app.json = JigaiJSONProvider(app)
    app.config.from_object(Config)
    if isinstance(config, type):
        app.config.from_object(config)
    elif config:
        app.config.update(config)
    if app.config["PREFERRED_URL_SCHEME"] == "https":  # served behind TLS
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"])
    _engine_options(app)
    binds = {}
    if app.config.get("REPLICA_DATABASE_URL"):
        binds[REPLICA] = {"url": normalise_database_url(app.config["REPLICA_DATABASE_URL"]),
                          "pool_pre_ping": True}
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Workflow steps through the API are one statement each: their own small pool of
        # connections that stay in autocommit mode (database.autocommit_statements).
        binds[STEPS] = {"url": app.config["SQLALCHEMY_DATABASE_URI"],
                        "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None,
                        "pool_size": 4, "max_overflow": 16}
    app.config["SQLALCHEMY_BINDS"] = binds

    db.init_app(app)
    app.teardown_appcontext(release_step_connection)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine, app.config["SQLITE_BUSY_TIMEOUT"])
        if STEPS in db.engines:
            configure_step_engine(db.engines[STEPS])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    if app.config["SECRET_KEY"] == "dev-only-change-me" and PRODUCTION and not app.testing:
        raise RuntimeError("set SECRET_KEY: the development key must not sign production sessions")
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_catalogue(app.jinja_env)
    workflow.init_app(app)
    # What a step sets off beyond its own rows: the statistics it moves, the people it tells.
    workflow.register_hook(rollup.HOOK)
    workflow.register_hook(notifications.HOOK)
    # Background work: the app's queue, and the ring for the mail the notifications wrote.
    jobs_queue.init_app(app)
    workflow.register_hook(outbox.HOOK)

    init_web(app)
    _register_blueprints(app)
    _json_errors_for_api(app)
    from .cli import register_cli

    register_cli(app)
    return app


def _engine_options(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args",
                           sqlite_connect_args(path, app.config["SQLITE_BUSY_TIMEOUT"]))
    else:
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
        options.setdefault("pool_pre_ping", False)  # a cheaper check: database.py
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _json_errors_for_api(app: Flask) -> None:
    """Under /api/ every error is JSON, including unknown routes and unexpected faults."""
    from werkzeug.exceptions import HTTPException, InternalServerError

    from .api.base import error_response

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        if not request.path.startswith("/api/"):
            from .web import http_error_page

            return http_error_page(err)
        code = (err.name or "error").lower().replace(" ", "_")
        return error_response(err.code or 500, code, err.description or err.name)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return _http_error(err)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_response(500, "internal_error", "Internal error; it has been logged.")
        from .web import http_error_page

        return http_error_page(InternalServerError())


def _register_blueprints(app: Flask) -> None:
    from .accounts.routes import bp as accounts_bp
    from .admin.routes import bp as admin_bp
    from .api.routes import bp as api_bp
    from .financing.routes import bp as financing_bp
    from .inbox.routes import bp as inbox_bp
    from .projects.routes import bp as projects_bp
    from .reporting.routes import bp as reporting_bp
    from .review.routes import bp as review_bp

    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # bearer tokens only; no cookies are honoured there
    for bp in (accounts_bp, review_bp, inbox_bp, projects_bp, financing_bp, admin_bp,
               reporting_bp):
        app.register_blueprint(bp)
