"""What every page shares: filters for money and dates in the reader's locale, labels,
the unread-notification count, error pages, and security headers."""

import json
from datetime import date, datetime

from flask import Flask, render_template, request, send_from_directory, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale
from flask_login import current_user

from . import access, labels
from .accounts.security import log_event
from .errors import DomainError, Invalid
from .i18n import format_day
from .i18n import gettext as _
from .inbox.notifications import unread_count
from .models import CHINA, STAGES, UTC_ZONE, china_today
from .rules.guards import DECLARATION_FIELDS, status_name
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
                                 percent=_percent, target_value=_target_value,
                                 role_label=lambda role: str(labels.ROLE_LABELS.get(role, role)))
    app.jinja_env.globals.update(labels=labels, STAGES=STAGES, today_date=china_today,
                                 clause_anchor=render.clause_anchor, cite=render.cite,
                                 cite_event=render.cite_event,
                                 clause_label=render.clause_label,
                                 lead_bank_label=render.lead_bank_label,
                                 basis_text=lambda *a, **k: render.basis_text(
                                     *a, fdate=fdate, **k),
                                 project_status=status_name, workflow_url=workflow_url,
                                 submit_required=frozenset((*DECLARATION_FIELDS, "jurisdiction")))
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _page_globals():
        english = str(get_locale()) == "en"
        user = current_user._get_current_object()  # not the proxy: it looks the user up again
        signed_in = user.is_authenticated
        return {"html_lang": "en" if english else "zh-CN", "english": english,
                "unread": unread_count(user) if signed_in else 0,
                "sections": access.sections(user) if signed_in else {}}

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
        if _personal(response):
            # What a signed-in user or an API caller sees stays out of every cache (shared
            # proxies, the browser's back button after signing out).
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        if app.config["PREFERRED_URL_SCHEME"] == "https":
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        if err.status == 403:
            log_event("access_denied", detail=err.message)
        if request.path.startswith("/api/"):
            from .api.base import error_response

            return error_response(err.status, err.code, err.message, err.fields, err.reasons)
        title = _error_texts().get(err.status, (_("Cannot be done"), ""))[0]
        return render_template("error.html", status=err.status, title=title,
                               message=err.message, reasons=err.reasons), err.status

    for code in (403, 404, 405, 413, 500):
        app.register_error_handler(code, http_error_page)

    @app.route("/favicon.ico")
    def favicon():
        return send_from_directory(app.static_folder, "favicon.ico",
                                   mimetype="image/vnd.microsoft.icon", max_age=86400)


def _error_texts() -> dict[int, tuple[str, str]]:
    """Each HTTP error as the reader is told it: a title and a sentence in their language,
    never the server's English description."""
    return {
        400: (_("Bad request"), _("The request could not be understood; reload the page and "
                                  "try again.")),
        403: (_("No access"), _("You may not open this page: it is outside your role or "
                                "jurisdiction.")),
        404: (_("Page not found"), _("The page or project does not exist, or you may not see "
                                     "it. Check the address or go back to the workbench.")),
        405: (_("Not allowed"), _("This page cannot be used this way.")),
        413: (_("File too large"), _("The upload is larger than allowed.")),
        500: (_("Something went wrong"), _("The server could not finish this request. Nothing "
                                           "was saved; please try again later.")),
    }


def http_error_page(err):
    code = getattr(err, "code", None) or 500
    if code < 400:
        return err
    if code == 403:
        log_event("access_denied", detail=err.description)
    # a method the resource does not answer: say which it does (RFC 9110 §15.5.6)
    allowed = getattr(err, "valid_methods", None)
    headers = {"Allow": ", ".join(sorted(set(allowed) | {"OPTIONS"}))} if allowed else {}
    if request.path.startswith("/api/"):
        from .api.base import error_response

        body, status = error_response(code, (err.name or "error").lower().replace(" ", "_"),
                                      err.description or err.name)
        return body, status, headers
    title, message = _error_texts().get(code, _error_texts()[500])
    return render_template("error.html", status=code, title=title, message=message), code, \
        headers


def _personal(response) -> bool:
    if request.endpoint == "static":
        return False
    if request.path.startswith("/api/"):
        return True
    return bool(current_user and current_user.is_authenticated)


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


def workflow_url(key: str) -> str:
    """The page of a workflow definition, built once per key and request: a timeline links
    the same few documents on every line, and building a URL is not cheap."""
    kept = request.__dict__.setdefault("jigai_workflow_urls", {})
    url = kept.get(key)
    if url is None:
        url = kept[key] = url_for("admin.workflow", key=key)
    return url


def fdate(value: date | None) -> str:
    return format_day(value)


def _fdatetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    # China time, its day written as every date is (2026年12月2日 15:42).
    moment = value.replace(tzinfo=UTC_ZONE).astimezone(CHINA)
    return f"{format_day(moment.date())} {moment:%H:%M}"


def _target_value(value, unit: str) -> str:
    """A document's figure as it states it: a share as a percentage, a count as a number."""
    if unit == "share":
        return _percent(value)
    if unit == "count_per_year":
        return _("%(n)s a year", n=value)
    return str(value)


def _percent(value) -> str:
    return "—" if value is None else f"{(value * 100).normalize():f}%"
