"""The API blueprint: bearer-token authentication of every request and JSON errors."""

from flask import Blueprint, g, request

from ..accounts import throttle
from ..accounts.operations import record_token_use
from ..accounts.principals import principal_for_token
from ..accounts.security import log_event
from ..database import autocommit_statements
from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext as _
from ..models import User

bp = Blueprint("api", __name__)

PUBLIC_ENDPOINTS = {"api.openapi"}
# A step reads its caller together with the project (one query) and writes with one
# statement, so each statement may commit on its own (database.autocommit_statements).
STEP_ENDPOINT = "api.projects_transition"
# A bulk decision's steps are each one statement too (its caller is read on its own).
BULK_ENDPOINT = "api.bulk_transitions"


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   reasons: list | None = None):
    body = {"error": code, "message": message, "fields": fields or {}}
    if reasons:
        body["reasons"] = reasons
    return body, status


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = bearer_token()
    if request.endpoint == BULK_ENDPOINT and token:
        autocommit_statements()
    if request.endpoint == STEP_ENDPOINT:
        autocommit_statements()
        return None if token else unauthorized(token)  # the route reads who holds it
    caller = principal_for_token(token) if token else None
    if caller is None:
        return unauthorized(token)
    g.api_caller = caller
    return None


def bearer_token() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def unauthorized(token: str | None):
    """401 — or 429 for a client that keeps asking without a valid token. Such failures are
    counted per client and minute in one row (the security log keeps the first of each)."""
    refused, first = throttle.anonymous_api_request()
    if first:
        log_event("api_unauthorized", detail="no token" if not token else "bad token")
    if refused:
        body, status = error_response(429, "too_many_requests", _(
            "Too many requests without a valid token: try again in a minute."))
        return body, status, {"Retry-After": "60"}
    body, status = error_response(401, "unauthorized", _("A valid bearer token is required."))
    return body, status, {"WWW-Authenticate": 'Bearer realm="jigai"'}


@bp.after_request
def _token_used(response):
    caller = g.get("api_caller")
    if caller is not None and caller.token_id is not None:
        record_token_use(caller.token_id, caller.token_used_at)
    return response


def api_user() -> User:
    """The caller as an ORM user, for operations that work on ORM objects."""
    if "api_user" not in g:
        g.api_user = db.session.get(User, g.api_caller.id)
    return g.api_user


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError):
    if err.status == 403:
        log_event("access_denied", user=g.get("api_caller"), detail=err.message)
    return error_response(err.status, err.code, err.message, err.fields, err.reasons)

