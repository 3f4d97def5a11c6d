"""Choosing the user's language. The web UI is Chinese unless the user picks English with
?lang=en (remembered in the session); API clients may ask with Accept-Language."""

from datetime import date
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from flask import g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString

LANG_PARAM = {"zh": "zh_CN", "zh_CN": "zh_CN", "zh-CN": "zh_CN", "en": "en"}
SUPPORTED = ["zh_CN", "en"]
# Parsed once: parsing a locale name looks for its data files on disk every time.
LOCALES = {name: Locale.parse(name) for name in SUPPORTED}


def select_locale() -> Locale:
    return LOCALES[_chosen()]


def _chosen() -> str:
    if not has_request_context():  # CLI and background work speak the default language
        return SUPPORTED[0]
    # A page asks for every date it writes: the request's answer is kept on the request.
    chosen = getattr(request, "jigai_locale", None)
    if chosen is None:
        chosen = request.jigai_locale = _choose()
    return chosen


def _choose() -> str:
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


def catalogue():
    """The gettext catalogue of the locale in force. flask-babel finds it afresh on every
    call (a dozen context-local lookups and the locale's name built each time), and a page
    asks a hundred times; kept on the request's babel context beside the locale it is for, so
    `force_locale` (which swaps that locale object) still gets its own."""
    try:
        context = g.get("_flask_babel")
    except RuntimeError:  # no application context: flask-babel's own answer
        return get_translations()
    locale = getattr(context, "babel_locale", None)
    kept = getattr(context, "jigai_catalogue", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    found = get_translations()
    context = g._flask_babel  # made by the lookup above when it was missing
    context.jigai_catalogue = (getattr(context, "babel_locale", None), found)
    return found


def reader_locale() -> Locale | None:
    """flask-babel's locale in force (the request's, or one forced), read from its context
    once known — flask-babel's `get_locale` makes a dozen lookups each time it is asked."""
    try:
        context = g.get("_flask_babel")
    except RuntimeError:  # no application context
        return get_locale()
    locale = getattr(context, "babel_locale", None)
    return locale if locale is not None else get_locale()


def gettext(string: str, **variables) -> str:
    """flask-babel's gettext, through the kept catalogue."""
    translated = catalogue().ugettext(string)
    return translated % variables if variables else translated


def lazy_gettext(string: str, **variables) -> LazyString:
    """A string translated when it is shown, in the reader's language (labels, form fields)."""
    return LazyString(gettext, string, **variables)


def install_catalogue(env) -> None:
    """Templates translate through `catalogue()`."""
    env.install_gettext_callables(
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True)


def format_day(value: date | str | None) -> str:
    """A day as the reader writes it in a sentence: 2026年12月2日, or Dec 2, 2026 — the one
    way every page, message and mail writes a date in running text. Accepts a stored ISO
    string (notification parameters keep their dates so)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return _day_text(value, _chosen())


@lru_cache(maxsize=4096)
def _day_text(value: date, locale: str) -> str:
    """Kept: a page writes the same few days many times (a timeline, a line each), and
    babel formats each afresh."""
    return format_date(value, "medium", locale=LOCALES[locale])
