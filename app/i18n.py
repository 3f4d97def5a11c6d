"""Choosing the user's language: ?lang= switches and is remembered, else the browser's."""

from flask import has_request_context, request, session

LANG_PARAM = {"zh": "zh_CN", "zh_CN": "zh_CN", "zh-CN": "zh_CN", "en": "en"}
SUPPORTED = ["zh_CN", "en"]


def select_locale() -> str:
    if not has_request_context():  # CLI and background work speak the default language
        return SUPPORTED[0]
    requested = LANG_PARAM.get(request.args.get("lang", ""))
    if requested:
        if not request.path.startswith("/api/"):
            session["lang"] = requested
        return requested
    if session.get("lang") in SUPPORTED:
        return session["lang"]
    return request.accept_languages.best_match(SUPPORTED) or SUPPORTED[0]
