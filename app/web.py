"""What every page shares: filters for money and dates in the reader's locale, labels,
the unread-notification count, error pages, and security headers."""

import json
from datetime import date, datetime

from flask import Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_date, get_locale
from flask_login import current_user

from . import access, labels
from .accounts.security import log_event
from .errors import DomainError, Invalid
from .i18n import gettext as _
from .inbox.notifications import unread_count
from .models import CHINA, STAGES, UTC_ZONE, china_today
from .rules.money import format_wan
from .validation import json_walk, too_deep
from .workflow import render

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


class WebSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for the web UI. API requests authenticate by bearer token and
    never by cookie, so they get no session to read or sign."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_web(app: Flask) -> None:
    app.session_interface = WebSessions()
    app.jinja_env.filters.update(wan=format_wan, fdate=fdate, fdatetime=_fdatetime,
                                 paren=labels.paren, join_list=labels.join_list,
                                 percent=_percent, target_value=_target_value)
    app.jinja_env.globals.update(labels=labels, STAGES=STAGES, today_date=china_today,
                                 clause_anchor=render.clause_anchor, cite=render.cite,
                                 cite_event=render.cite_event,
                                 clause_label=render.clause_label,
                                 lead_bank_label=render.lead_bank_label,
                                 basis_text=lambda *a, **k: render.basis_text(
                                     *a, fdate=fdate, **k))
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _page_globals():
        english = str(get_locale()) == "en"
        signed_in = current_user.is_authenticated
        return {"html_lang": "en" if english else "zh-CN", "english": english,
                "unread": unread_count(current_user) if signed_in else 0,
                "sections": access.sections(current_user) if signed_in else {}}

    @app.before_request
    def _refuse_nul_characters():
        field = _field_holding_nul()
        if field:
            raise Invalid(_("The request is not valid."),
                          fields={field: _("Text may not contain NUL characters.")})

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        if err.status == 403:
            log_event("access_denied", detail=err.message)
        if request.path.startswith("/api/"):
            from .api.base import error_response

            return error_response(err.status, err.code, err.message, err.fields, err.reasons)
        return render_template("error.html", status=err.status, message=err.message,
                               reasons=err.reasons), err.status

    for code in (403, 404, 405, 413):
        app.register_error_handler(code, _http_error_page)


def _http_error_page(err):
    if err.code == 403:
        log_event("access_denied", detail=err.description)
    # a method the resource does not answer: say which it does (RFC 9110 §15.5.6)
    allowed = getattr(err, "valid_methods", None)
    headers = {"Allow": ", ".join(sorted(set(allowed) | {"OPTIONS"}))} if allowed else {}
    if request.path.startswith("/api/"):
        from .api.base import error_response

        body, status = error_response(err.code, (err.name or "error").lower().replace(" ", "_"),
                                      err.description or err.name)
        return body, status, headers
    return render_template("error.html", status=err.code, message=err.description), err.code, \
        headers


def _field_holding_nul() -> str | None:
    """The field of this request that holds a NUL character, if one does. No text a person
    enters holds one and PostgreSQL cannot store one, so it is refused before any query sees
    it. A query string is parsed only if it spells one (%00), a JSON body likewise (\\u0000);
    a form is parsed, as its view would parse it anyway."""
    fields = []
    if b"%00" in request.query_string:
        fields += request.args.items(multi=True)
    if request.mimetype in FORM_TYPES:
        fields += request.form.items(multi=True)
    for name, value in fields:
        if "\x00" in value:
            return name
    if not (request.is_json and b"\\u0000" in request.get_data()):
        return None
    try:
        body = json.loads(request.get_data())
    except RecursionError:
        raise too_deep() from None
    except ValueError:
        return None  # not JSON at all: the view says so
    return "body" if any(isinstance(v, str) and "\x00" in v for v in json_walk(body)) else None


def fdate(value: date | None) -> str:
    return format_date(value, "medium") if value else "—"


def _fdatetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    # The same digits in every locale, so no locale's pattern to apply: China time.
    return value.replace(tzinfo=UTC_ZONE).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _target_value(value, unit: str) -> str:
    """A document's figure as it states it: a share as a percentage, a count as a number."""
    if unit == "share":
        return _percent(value)
    if unit == "count_per_year":
        return _("%(n)s a year", n=value)
    return str(value)


def _percent(value) -> str:
    return "—" if value is None else f"{(value * 100).normalize():f}%"
