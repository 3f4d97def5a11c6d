"""JSON API v1: bearer tokens, JSON errors, the routes of DESIGN.md."""

from flask import Blueprint, g, request
from flask_babel import gettext as _

from ..errors import DomainError
from ..services.accounts import user_for_token
from ..services.security import log_event

bp = Blueprint("api", __name__)

PUBLIC_ENDPOINTS = {"api.openapi"}


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
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        log_event("api_unauthorized", detail="no token" if not token else "bad token")
        body, status = error_response(401, "unauthorized", _("A valid bearer token is required."))
        return body, status, {"WWW-Authenticate": 'Bearer realm="jigai"'}
    g.api_user = user
    return None


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError):
    if err.status == 403:
        log_event("access_denied", user=g.get("api_user"), detail=err.message)
    return error_response(err.status, err.code, err.message, err.fields, err.reasons)


from . import routes  # noqa: E402,F401
