"""Choosing the user's language. The web UI is Chinese unless the user picks English with
?lang=en (remembered in the session); API clients may ask with Accept-Language."""

from babel import Locale
from flask import has_request_context, request, session

LANG_PARAM = {"zh": "zh_CN", "zh_CN": "zh_CN", "zh-CN": "zh_CN", "en": "en"}
SUPPORTED = ["zh_CN", "en"]
# Parsed once: parsing a locale name looks for its data files on disk every time.
LOCALES = {name: Locale.parse(name) for name in SUPPORTED}


def select_locale() -> Locale:
    return LOCALES[_chosen()]


def _chosen() -> str:
    if not has_request_context():  # CLI and background work speak the default language
        return SUPPORTED[0]
    requested = LANG_PARAM.get(request.args.get("lang", ""))
    api = request.path.startswith("/api/")
    if requested:
        if not api:
            session["lang"] = requested
        return requested
    if api:
        if "Accept-Language" not in request.headers:  # most system clients send none
            return SUPPORTED[0]
        return request.accept_languages.best_match(SUPPORTED) or SUPPORTED[0]
    return session.get("lang") if session.get("lang") in SUPPORTED else SUPPORTED[0]
